// StreamingAnswerWriter (see streaming.h) and the open-time pass that marks
// answers of dead writers as interrupted.
#include "ossdesk/storage/streaming.h"

#include "internal.h"
#include "ossdesk/storage/database.h"
#include "ossdesk/storage/messages.h"
#include "sqlite_util.h"
#include "text_util.h"

namespace ossdesk::storage {
using detail::Statement;
using detail::Transaction;

namespace {

MessageStats merge_stats(const MessageStats& before, const MessageStats& after) {
  MessageStats m = after;
  if (m.model.empty()) m.model = before.model;
  if (m.backend.empty()) m.backend = before.backend;
  if (m.device.empty()) m.device = before.device;
  if (m.reasoning_effort.empty()) m.reasoning_effort = before.reasoning_effort;
  return m;
}

}  // namespace

namespace detail {

int mark_interrupted_answers(Database& db) {
  std::vector<RowId> dead;
  {
    Statement st(db, "SELECT id, writer_pid, writer_boot FROM messages WHERE status = 'partial' AND interrupted = 0",
                 "looking for unfinished answers");
    while (st.step())
      if (!writer_alive(st.opt_int64(1), st.text(2))) dead.push_back(st.int64(0));
  }
  if (dead.empty()) return 0;  // the common case takes no write lock
  Transaction tx(db, "marking unfinished answers as interrupted");
  Statement mark(db,
                 "UPDATE messages SET interrupted = 1, writer_pid = NULL, writer_boot = NULL"
                 " WHERE id = ? AND status = 'partial' AND interrupted = 0",
                 "marking unfinished answers as interrupted");
  int count = 0;
  for (RowId id : dead) {
    mark.bind(1, id).run();
    count += sqlite3_changes(db.handle());
    mark.reset();
  }
  tx.commit();
  return count;
}

}  // namespace detail

StreamingAnswerWriter::StreamingAnswerWriter(Database& db, RowId conversation_id, RowId parent_id,
                                             const MessageStats& stats, StreamingOptions options)
    : db_(db), conversation_id_(conversation_id), start_stats_(stats), options_(options) {
  Transaction tx(db_, "starting an answer");
  NewMessage row;
  row.role = Role::Assistant;
  row.status = MessageStatus::Partial;
  row.stats = stats;
  message_id_ = add_message(db_, conversation_id, parent_id, row);
  const auto& me = detail::current_writer();
  Statement owner(db_, "UPDATE messages SET writer_pid = ?, writer_boot = ? WHERE id = ?", "starting an answer");
  owner.bind(1, me.pid).bind_text_or_null(2, me.boot_id).bind(3, message_id_).run();
  tx.commit();
  last_flush_ = std::chrono::steady_clock::now();
}

StreamingAnswerWriter::~StreamingAnswerWriter() {
  if (finished_) return;
  try {
    write_pending(true);
  } catch (...) {
    // Keep going: marking the row below matters more than the last few words.
  }
  try {
    Statement st(db_, "UPDATE messages SET interrupted = 1, writer_pid = NULL, writer_boot = NULL WHERE id = ?",
                 "marking an unfinished answer");
    st.bind(1, message_id_).run();
  } catch (...) {
    // The next open from another process marks it instead (our pid is then gone).
  }
}

void StreamingAnswerWriter::append_reasoning(std::string_view delta) {
  reasoning_ += delta;
  maybe_flush();
}

void StreamingAnswerWriter::append_content(std::string_view delta) {
  content_ += delta;
  maybe_flush();
}

void StreamingAnswerWriter::add_tool_call(const ToolCall& call) {
  tool_calls_.push_back(call);
  tool_calls_dirty_ = true;
  maybe_flush();
}

void StreamingAnswerWriter::flush() { write_pending(false); }

void StreamingAnswerWriter::maybe_flush() {
  if (std::chrono::steady_clock::now() - last_flush_ >= options_.flush_interval) write_pending(false);
}

void StreamingAnswerWriter::write_pending(bool everything) {
  if (finished_) return;
  const auto end_of = [everything](const std::string& text, std::size_t saved) {
    if (everything) return text.size();
    return saved + detail::complete_utf8_prefix(std::string_view(text).substr(saved));
  };
  const std::size_t content_end = end_of(content_, content_saved_);
  const std::size_t reasoning_end = end_of(reasoning_, reasoning_saved_);
  if (content_end == content_saved_ && reasoning_end == reasoning_saved_ && !tool_calls_dirty_) return;

  const auto& me = detail::current_writer();
  Statement st(db_,
               "UPDATE messages SET content = content || ?1, reasoning = reasoning || ?2,"
               " tool_calls = coalesce(?3, tool_calls), updated_ms = ?4,"
               " interrupted = 0, writer_pid = ?5, writer_boot = ?6 WHERE id = ?7",
               "saving the answer as it streams");
  st.bind(1, std::string_view(content_).substr(content_saved_, content_end - content_saved_))
      .bind(2, std::string_view(reasoning_).substr(reasoning_saved_, reasoning_end - reasoning_saved_));
  if (tool_calls_dirty_) st.bind(3, detail::tool_calls_to_column(tool_calls_)); else st.bind_null(3);
  st.bind(4, now_ms()).bind(5, me.pid).bind_text_or_null(6, me.boot_id).bind(7, message_id_).run();
  if (sqlite3_changes(db_.handle()) == 0)
    throw StorageError(StorageErrorKind::NotFound, detail::where(db_) + "message " + std::to_string(message_id_) +
                                                       " was deleted while its answer was being written");
  content_saved_ = content_end;
  reasoning_saved_ = reasoning_end;
  tool_calls_dirty_ = false;
  ++flush_count_;
  last_flush_ = std::chrono::steady_clock::now();
}

void StreamingAnswerWriter::finish(MessageStatus status, const MessageStats& stats, std::string_view error_message) {
  if (finished_)
    throw StorageError(StorageErrorKind::InvalidArgument,
                       detail::where(db_) + "answer " + std::to_string(message_id_) + " was already finished");
  if (status == MessageStatus::Partial)
    throw StorageError(StorageErrorKind::InvalidArgument,
                       detail::where(db_) + "an answer must finish as complete, cancelled or error");
  const MessageStats s = merge_stats(start_stats_, stats);
  if (!s.reasoning_effort.empty() && !is_reasoning_effort(s.reasoning_effort))
    throw StorageError(StorageErrorKind::InvalidArgument,
                       detail::where(db_) + "unknown reasoning effort '" + s.reasoning_effort + "'");
  const std::int64_t now = now_ms();

  Transaction tx(db_, "saving the finished answer");
  Statement st(db_,
               "UPDATE messages SET content = content || ?1, reasoning = reasoning || ?2, tool_calls = ?3,"
               " status = ?4, error = ?5, interrupted = 0, writer_pid = NULL, writer_boot = NULL, updated_ms = ?6,"
               " model = ?7, backend = ?8, device = ?9, reasoning_effort = ?10, prompt_tokens = ?11,"
               " generated_tokens = ?12, ttft_ms = ?13, decode_tokens_per_s = ?14, thinking_ms = ?15 WHERE id = ?16",
               "saving the finished answer");
  st.bind(1, std::string_view(content_).substr(content_saved_))
      .bind(2, std::string_view(reasoning_).substr(reasoning_saved_))
      .bind(3, detail::tool_calls_to_column(tool_calls_))
      .bind(4, to_string(status))
      .bind(5, error_message)
      .bind(6, now);
  detail::bind_message_stats(st, 7, s).bind(16, message_id_).run();
  if (sqlite3_changes(db_.handle()) == 0)
    throw StorageError(StorageErrorKind::NotFound, detail::where(db_) + "message " + std::to_string(message_id_) +
                                                       " was deleted while its answer was being written");
  Statement conv(db_, "UPDATE conversations SET updated_ms = max(updated_ms, ?) WHERE id = ?",
                 "saving the finished answer");
  conv.bind(1, now).bind(2, conversation_id_).run();
  tx.commit();
  content_saved_ = content_.size();
  reasoning_saved_ = reasoning_.size();
  tool_calls_dirty_ = false;
  finished_ = true;
}

}  // namespace ossdesk::storage

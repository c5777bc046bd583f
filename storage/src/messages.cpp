// Messages and branches repository (see messages.h).
#include "ossdesk/storage/messages.h"

#include <array>

#include "internal.h"
#include "ossdesk/storage/database.h"
#include "sqlite_util.h"
#include "text_util.h"

namespace ossdesk::storage {
using detail::Statement;
using detail::Transaction;

namespace detail {

std::string message_columns(std::string_view p) {
  const std::array<const char*, 23> names{
      "id",         "conversation_id", "parent_id",        "role",          "content",
      "reasoning",  "tool_calls",      "tool_call_id",     "tool_name",     "status",
      "interrupted", "error",          "created_ms",       "updated_ms",    "model",
      "backend",    "device",          "reasoning_effort", "prompt_tokens", "generated_tokens",
      "ttft_ms",    "decode_tokens_per_s", "thinking_ms"};
  std::string out;
  for (const char* n : names) out += (out.empty() ? "" : ", ") + std::string(p) + n;
  return out;
}

MessageRecord read_message(const Statement& st, int c) {
  MessageRecord m;
  m.id = st.int64(c + 0);
  m.conversation_id = st.int64(c + 1);
  m.parent_id = st.opt_int64(c + 2);
  // The CHECK constraints guarantee these parse; the fallbacks only guard hand-edited files.
  m.role = parse_role(st.text(c + 3)).value_or(Role::User);
  m.content = st.text(c + 4);
  m.reasoning = st.text(c + 5);
  m.tool_calls = tool_calls_from_column(st.text(c + 6));
  m.tool_call_id = st.text(c + 7);
  m.tool_name = st.text(c + 8);
  m.status = parse_message_status(st.text(c + 9)).value_or(MessageStatus::Partial);
  m.interrupted = st.int64(c + 10) != 0;
  m.error = st.text(c + 11);
  m.created_ms = st.int64(c + 12);
  m.updated_ms = st.int64(c + 13);
  m.stats.model = st.text(c + 14);
  m.stats.backend = st.text(c + 15);
  m.stats.device = st.text(c + 16);
  m.stats.reasoning_effort = st.text(c + 17);
  m.stats.prompt_tokens = st.opt_int64(c + 18);
  m.stats.generated_tokens = st.opt_int64(c + 19);
  m.stats.ttft_ms = st.opt_real(c + 20);
  m.stats.decode_tokens_per_s = st.opt_real(c + 21);
  m.stats.thinking_ms = st.opt_real(c + 22);
  return m;
}

std::string tool_calls_to_column(const std::vector<ToolCall>& calls) {
  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  for (const ToolCall& c : calls)
    array.push_back({{"id", text_to_json(c.id)}, {"name", text_to_json(c.name)}, {"arguments", text_to_json(c.arguments)}});
  return array.dump();
}

std::vector<ToolCall> tool_calls_from_column(const std::string& text) {
  std::vector<ToolCall> calls;
  try {
    const auto array = nlohmann::ordered_json::parse(text);
    for (const auto& c : array)
      calls.push_back(
          ToolCall{text_from_json(c.at("id")), text_from_json(c.at("name")), text_from_json(c.at("arguments"))});
  } catch (const std::exception&) {
    // One bad cell must not hide the message: keep the raw text where a reader can see it.
    return {ToolCall{"", "", text}};
  }
  return calls;
}

std::vector<RowId> subtree_deepest_first(Database& db, RowId conversation_id, std::optional<RowId> root) {
  const char* sql = root ? "WITH RECURSIVE sub(id, depth) AS ("
                           "  SELECT id, 0 FROM messages WHERE id = ?2 AND conversation_id = ?1"
                           "  UNION ALL SELECT m.id, sub.depth + 1 FROM messages m JOIN sub ON m.parent_id = sub.id)"
                           " SELECT id FROM sub ORDER BY depth DESC, id DESC"
                         : "WITH RECURSIVE sub(id, depth) AS ("
                           "  SELECT id, 0 FROM messages WHERE conversation_id = ?1 AND parent_id IS NULL"
                           "  UNION ALL SELECT m.id, sub.depth + 1 FROM messages m JOIN sub ON m.parent_id = sub.id)"
                           " SELECT id FROM sub ORDER BY depth DESC, id DESC";
  Statement st(db, sql, "collecting messages to delete");
  st.bind(1, conversation_id);
  if (root) st.bind(2, *root);
  std::vector<RowId> ids;
  while (st.step()) ids.push_back(st.int64(0));
  return ids;
}

Statement& bind_message_stats(Statement& st, int first, const MessageStats& s) {
  return st.bind_text_or_null(first, s.model)
      .bind_text_or_null(first + 1, s.backend)
      .bind_text_or_null(first + 2, s.device)
      .bind_text_or_null(first + 3, s.reasoning_effort)
      .bind(first + 4, s.prompt_tokens)
      .bind(first + 5, s.generated_tokens)
      .bind(first + 6, s.ttft_ms)
      .bind(first + 7, s.decode_tokens_per_s)
      .bind(first + 8, s.thinking_ms);
}

}  // namespace detail

namespace {

std::optional<RowId> current_leaf(Database& db, RowId conversation_id) {
  Statement st(db, "SELECT current_leaf_id FROM conversations WHERE id = ?", "reading the current branch");
  st.bind(1, conversation_id);
  if (!st.step())
    throw StorageError(StorageErrorKind::NotFound,
                       detail::where(db) + "there is no conversation " + std::to_string(conversation_id));
  return st.opt_int64(0);
}

void set_leaf(Database& db, RowId conversation_id, std::optional<RowId> leaf) {
  Statement st(db, "UPDATE conversations SET current_leaf_id = ? WHERE id = ?", "switching branches");
  st.bind(1, leaf).bind(2, conversation_id).run();
}

// Follows the newest child from `id` down to a leaf.
RowId newest_leaf_under(Database& db, RowId id) {
  Statement st(db, "SELECT id FROM messages WHERE parent_id = ? ORDER BY id DESC LIMIT 1", "following a branch");
  for (;;) {
    st.bind(1, id);
    if (!st.step()) return id;
    id = st.int64(0);
    st.reset();
  }
}

}  // namespace

RowId add_message(Database& db, RowId conversation_id, std::optional<RowId> parent_id, const NewMessage& m) {
  if (!m.stats.reasoning_effort.empty() && !is_reasoning_effort(m.stats.reasoning_effort))
    throw StorageError(StorageErrorKind::InvalidArgument,
                       detail::where(db) + "unknown reasoning effort '" + m.stats.reasoning_effort + "'");
  Transaction tx(db, "saving a message");
  detail::require_conversation(db, conversation_id);
  if (parent_id) {
    auto parent = find_message(db, *parent_id);
    if (!parent || parent->conversation_id != conversation_id)
      throw StorageError(StorageErrorKind::InvalidArgument,
                         detail::where(db) + "message " + std::to_string(*parent_id) +
                             " is not part of conversation " + std::to_string(conversation_id));
  }
  const std::int64_t created = m.created_ms.value_or(now_ms());
  Statement st(db,
               "INSERT INTO messages (conversation_id, parent_id, role, content, reasoning, tool_calls, tool_call_id, "
               "tool_name, status, error, created_ms, updated_ms, model, backend, device, reasoning_effort, "
               "prompt_tokens, generated_tokens, ttft_ms, decode_tokens_per_s, thinking_ms) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               "saving a message");
  st.bind(1, conversation_id);
  if (parent_id) st.bind(2, *parent_id); else st.bind_null(2);
  st.bind(3, to_string(m.role))
      .bind(4, m.content)
      .bind(5, m.reasoning)
      .bind(6, detail::tool_calls_to_column(m.tool_calls))
      .bind(7, m.tool_call_id)
      .bind(8, m.tool_name)
      .bind(9, to_string(m.status))
      .bind(10, m.error)
      .bind(11, created)
      .bind(12, created);
  detail::bind_message_stats(st, 13, m.stats).run();
  const RowId id = sqlite3_last_insert_rowid(db.handle());
  Statement conv(db, "UPDATE conversations SET current_leaf_id = ?, updated_ms = max(updated_ms, ?) WHERE id = ?",
                 "saving a message");
  conv.bind(1, id).bind(2, created).bind(3, conversation_id).run();
  tx.commit();
  return id;
}

RowId append_message(Database& db, RowId conversation_id, const NewMessage& message) {
  // Read and insert under one lock so a second process cannot slip a message in between.
  Transaction tx(db, "saving a message");
  const RowId id = add_message(db, conversation_id, current_leaf(db, conversation_id), message);
  tx.commit();
  return id;
}

std::optional<MessageRecord> find_message(Database& db, RowId id) {
  Statement st(db, "SELECT " + detail::message_columns() + " FROM messages WHERE id = ?", "reading a message");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return detail::read_message(st);
}

MessageRecord get_message(Database& db, RowId id) {
  auto found = find_message(db, id);
  if (!found)
    throw StorageError(StorageErrorKind::NotFound, detail::where(db) + "there is no message " + std::to_string(id));
  return *found;
}

std::vector<MessageRecord> thread_to(Database& db, RowId leaf_id) {
  Statement st(db,
               "WITH RECURSIVE path(id, depth) AS ("
               "  SELECT id, 0 FROM messages WHERE id = ?"
               "  UNION ALL SELECT m.parent_id, path.depth + 1 FROM messages m JOIN path ON m.id = path.id"
               "  WHERE m.parent_id IS NOT NULL)"
               " SELECT " + detail::message_columns("m.") +
                   " FROM path JOIN messages m ON m.id = path.id ORDER BY path.depth DESC",
               "reading a conversation thread");
  st.bind(1, leaf_id);
  std::vector<MessageRecord> out;
  while (st.step()) out.push_back(detail::read_message(st));
  return out;
}

std::vector<MessageRecord> visible_thread(Database& db, RowId conversation_id) {
  const auto leaf = current_leaf(db, conversation_id);
  if (!leaf) return {};
  return thread_to(db, *leaf);
}

std::vector<MessageRecord> all_messages(Database& db, RowId conversation_id) {
  detail::require_conversation(db, conversation_id);
  Statement st(db, "SELECT " + detail::message_columns() + " FROM messages WHERE conversation_id = ? ORDER BY id",
               "reading a conversation");
  st.bind(1, conversation_id);
  std::vector<MessageRecord> out;
  while (st.step()) out.push_back(detail::read_message(st));
  return out;
}

Siblings siblings(Database& db, RowId message_id) {
  const MessageRecord m = get_message(db, message_id);
  Statement st(db, "SELECT id FROM messages WHERE conversation_id = ? AND parent_id IS ? ORDER BY id",
               "reading alternatives");
  st.bind(1, m.conversation_id);
  if (m.parent_id) st.bind(2, *m.parent_id); else st.bind_null(2);
  Siblings out;
  while (st.step()) {
    if (st.int64(0) == message_id) out.index = out.ids.size();
    out.ids.push_back(st.int64(0));
  }
  return out;
}

RowId select_branch(Database& db, RowId message_id) {
  Transaction tx(db, "switching branches");
  const MessageRecord m = get_message(db, message_id);
  const RowId leaf = newest_leaf_under(db, message_id);
  set_leaf(db, m.conversation_id, leaf);
  tx.commit();
  return leaf;
}

void delete_message_subtree(Database& db, RowId message_id) {
  Transaction tx(db, "deleting messages");
  const MessageRecord m = get_message(db, message_id);
  const auto ids = detail::subtree_deepest_first(db, m.conversation_id, message_id);
  const auto leaf = current_leaf(db, m.conversation_id);
  bool leaf_removed = !leaf;
  Statement del(db, "DELETE FROM messages WHERE id = ?", "deleting messages");
  for (RowId id : ids) {
    if (leaf && id == *leaf) leaf_removed = true;
    del.bind(1, id).run();
    del.reset();
  }
  if (leaf_removed) {
    std::optional<RowId> next;
    if (m.parent_id) {
      next = newest_leaf_under(db, *m.parent_id);
    } else {
      Statement root(db, "SELECT id FROM messages WHERE conversation_id = ? AND parent_id IS NULL ORDER BY id DESC LIMIT 1",
                     "switching branches");
      root.bind(1, m.conversation_id);
      if (root.step()) next = newest_leaf_under(db, root.int64(0));
    }
    set_leaf(db, m.conversation_id, next);
  }
  tx.commit();
}

}  // namespace ossdesk::storage

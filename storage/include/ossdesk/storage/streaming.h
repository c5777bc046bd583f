// Saving an answer while it streams.
//
// The writer inserts the assistant message as `partial` (committed before the
// first token), then appends the text that arrives to that one row at most
// every flush_interval (an UPDATE ... SET content = content || ?; the rest of
// the conversation is never rewritten), and records the final status and
// stats in finish(). If the process dies, the row stays `partial` with what
// was flushed, and the next Database::open marks it interrupted.
//
// Flushes only happen inside append_*(), so the text at risk on a crash is
// what arrived within flush_interval of the last flush. A flush never cuts a
// UTF-8 character in half (up to 3 trailing bytes wait for the next flush).
// If a flush fails (disk full, lock held too long) the StorageError
// propagates and the unsaved text stays buffered; the next flush or finish()
// retries, so nothing is dropped.
//
// Not thread-safe: call it from one thread (the one that owns the Database).
// The Database must outlive the writer and must not be moved while it exists.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "ossdesk/storage/types.h"

namespace ossdesk::storage {

class Database;

struct StreamingOptions {
  std::chrono::milliseconds flush_interval{300};
};

class StreamingAnswerWriter {
 public:
  // Inserts the assistant message under `parent_id` (usually the user message
  // just appended; for regenerate, that same user message again), makes it the
  // conversation's current leaf, and commits. `stats` may carry what is known
  // up front (model, backend, device, reasoning effort). Throws StorageError.
  StreamingAnswerWriter(Database& db, RowId conversation_id, RowId parent_id, const MessageStats& stats = {},
                        StreamingOptions options = {});
  StreamingAnswerWriter(const StreamingAnswerWriter&) = delete;
  StreamingAnswerWriter& operator=(const StreamingAnswerWriter&) = delete;
  // Without finish(): saves what it can and marks the answer interrupted (never throws).
  ~StreamingAnswerWriter();

  RowId message_id() const { return message_id_; }

  void append_reasoning(std::string_view delta);  // analysis channel
  void append_content(std::string_view delta);    // final channel
  void add_tool_call(const ToolCall& call);       // saved at the next flush
  // Saves everything buffered now (except an incomplete trailing UTF-8 character).
  void flush();
  // Saves the rest and records the outcome: Complete, Cancelled or Error
  // (with `error_message`). `stats` replaces what the constructor recorded,
  // except that empty model/backend/device/effort keep the earlier values.
  void finish(MessageStatus status, const MessageStats& stats = {}, std::string_view error_message = {});

  bool finished() const { return finished_; }
  std::size_t flush_count() const { return flush_count_; }  // UPDATEs issued so far
  const std::string& content() const { return content_; }      // everything received
  const std::string& reasoning() const { return reasoning_; }

 private:
  void maybe_flush();
  void write_pending(bool everything);

  Database& db_;
  RowId conversation_id_;
  RowId message_id_ = 0;
  MessageStats start_stats_;
  StreamingOptions options_;
  std::string content_, reasoning_;
  std::size_t content_saved_ = 0, reasoning_saved_ = 0;  // bytes already in the row
  std::vector<ToolCall> tool_calls_;
  bool tool_calls_dirty_ = false;
  bool finished_ = false;
  std::size_t flush_count_ = 0;
  std::chrono::steady_clock::time_point last_flush_;
};

}  // namespace ossdesk::storage

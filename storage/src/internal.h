// Internal: functions shared between the library's source files and not part of the API.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ossdesk/storage/database.h"
#include "ossdesk/storage/types.h"

namespace ossdesk::storage::detail {

// --- writer_identity.cpp: who is streaming an answer, and are they still alive?
struct WriterIdentity {
  std::int64_t pid = 0;
  std::string boot_id;  // changes at every boot (Linux); empty where the OS has none
};
const WriterIdentity& current_writer();
// False when the recorded writer process is certainly gone (no pid, other boot, no such process).
bool writer_alive(std::optional<std::int64_t> pid, const std::string& boot_id);

// --- streaming.cpp: at open, partial answers whose writer is gone become interrupted.
int mark_interrupted_answers(Database& db);

// --- migrations.cpp: throws TooNew / NotOurs for a file this build must not touch.
void require_ours(Database& db, int version);

// --- move_aside.cpp: renames a bad file (and its -wal/-shm/-journal) out of the way, never overwriting.
std::filesystem::path move_aside(const std::filesystem::path& path);

class Statement;

// --- messages.cpp: the SELECT column list and row reader shared by every message query.
std::string message_columns(std::string_view table_prefix = "");  // "id, conversation_id, ..."
MessageRecord read_message(const Statement& st, int first_column = 0);
// Binds the nine stats columns (model, backend, device, reasoning_effort, prompt_tokens,
// generated_tokens, ttft_ms, decode_tokens_per_s, thinking_ms) at first..first+8, in that order.
Statement& bind_message_stats(Statement& st, int first, const MessageStats& stats);
std::string tool_calls_to_column(const std::vector<ToolCall>& calls);
// A cell that is not valid JSON comes back as one call whose arguments hold the raw text.
std::vector<ToolCall> tool_calls_from_column(const std::string& text);
// Message ids of the subtree under `root` (or of the whole conversation when root is empty), deepest first.
std::vector<RowId> subtree_deepest_first(Database& db, RowId conversation_id, std::optional<RowId> root);

// --- conversations.cpp
std::string conversation_columns(std::string_view table_prefix = "");
ConversationRecord read_conversation(const Statement& st, int first_column = 0);
void require_conversation(Database& db, RowId conversation_id);  // throws NotFound
void validate_settings(const Database& db, const ConversationSettings& settings);  // throws InvalidArgument

}  // namespace ossdesk::storage::detail

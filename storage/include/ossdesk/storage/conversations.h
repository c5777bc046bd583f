// Conversations: create, read, list, rename, pin, change settings, delete.
//
// Deleting is secure: with secure_delete on, the search index merged and the
// WAL checkpointed and truncated, a deleted chat's text is gone from the
// files on disk, not just hidden.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ossdesk/storage/types.h"

namespace ossdesk::storage {

class Database;

struct NewConversation {
  std::string title{};
  ConversationSettings settings{};
  std::optional<std::int64_t> created_ms{};  // default: now
};

// A row of the sidebar.
struct ConversationSummary {
  ConversationRecord conversation{};
  std::int64_t message_count = 0;
  bool has_interrupted = false;  // some answer was cut off by a crash
  bool operator==(const ConversationSummary&) const = default;
};

RowId create_conversation(Database& db, const NewConversation& conversation);
std::optional<ConversationRecord> find_conversation(Database& db, RowId id);
ConversationRecord get_conversation(Database& db, RowId id);  // throws StorageError NotFound
// Pinned first, then most recently active first.
std::vector<ConversationSummary> list_conversations(Database& db);

void rename_conversation(Database& db, RowId id, std::string_view title);
void set_conversation_pinned(Database& db, RowId id, bool pinned);
void update_conversation_settings(Database& db, RowId id, const ConversationSettings& settings);
void delete_conversation(Database& db, RowId id);

// A sidebar title from the first user message: its first non-empty line,
// whitespace collapsed, cut at a word (and UTF-8 character) boundary near
// `max_chars` characters with an ellipsis.
std::string derive_title(std::string_view first_message, std::size_t max_chars = 60);

}  // namespace ossdesk::storage

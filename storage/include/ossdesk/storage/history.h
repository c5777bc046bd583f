// The output of `ossdesk-cli history --json`, built here so the CLI stays a
// thin argument parser and the format is tested with the store.
//
// Without a conversation or search: {"format": "ossdesk-history", "version": 1,
//   "conversations": [{id, title, created_ms, updated_ms, pinned, model,
//   reasoning_effort, message_count, has_interrupted}, ...]}  (sidebar order)
// With a conversation: {..., "conversation": {id, title, ..., settings,
//   current_leaf_id, "thread": [message ids root..leaf],
//   "messages": [every message, oldest first, with id and parent_id]}}
// With a search (optionally limited to a conversation): {..., "query": "...",
//   "hits": [{conversation_id, message_id|null, title, snippet}, ...]}
// As in export_json(), text that is not valid UTF-8 appears as {"base64": "..."}.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "ossdesk/storage/types.h"

namespace ossdesk::storage {

class Database;

struct HistoryQuery {
  std::optional<RowId> conversation_id{};
  std::optional<std::string> search{};
  std::size_t search_limit = 50;
};

// Pretty-printed (2 spaces) and newline-terminated. Throws StorageError
// NotFound for an unknown conversation id.
std::string history_json(Database& db, const HistoryQuery& query);

}  // namespace ossdesk::storage

// Export and import of one or all conversations.
//
// JSON is the lossless format: every message of every branch, all statuses,
// stats, tool calls and times. Database ids are not part of it (messages are
// numbered 1..n within their conversation), so export -> import -> export
// gives byte-identical JSON in any database. Text that is not valid UTF-8 is
// written as {"base64": "..."} rather than altered.
//
// Markdown is the readable format: the visible thread of each conversation
// with headings, reasoning folded in <details>. Invisible HTML comments carry
// the metadata, so import_markdown() restores that thread (not other branches).
//
// Imports are all-or-nothing: a malformed file throws StorageError BadImport
// naming the offending field, and nothing is written.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ossdesk/storage/types.h"

namespace ossdesk::storage {

class Database;

// One conversation, or every conversation (oldest first) when the id is empty.
std::string export_json(Database& db, std::optional<RowId> conversation_id = std::nullopt);
// Returns the new conversation ids, in file order.
std::vector<RowId> import_json(Database& db, std::string_view json);

std::string export_markdown(Database& db, std::optional<RowId> conversation_id = std::nullopt);
std::vector<RowId> import_markdown(Database& db, std::string_view markdown);

}  // namespace ossdesk::storage

// Internal: records <-> JSON objects shared by the JSON and Markdown exports,
// and the inserts both importers use.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "ossdesk/storage/database.h"
#include "ossdesk/storage/types.h"

namespace ossdesk::storage::detail {

using Json = nlohmann::ordered_json;

inline constexpr const char* kExportFormat = "ossdesk-export";
inline constexpr int kExportVersion = 1;

// title, times, pinned, settings (no messages, no ids).
Json conversation_to_json(const ConversationRecord& c);
// role, [content, reasoning,] tool calls, status, times, stats (no ids).
Json message_to_json(const MessageRecord& m, bool with_text);

// The inverses. `where` names the object for error messages ("conversations[2]");
// they throw StorageError BadImport. Missing fields take their defaults.
ConversationRecord conversation_from_json(const Json& j, const std::string& where);
MessageRecord message_from_json(const Json& j, const std::string& where, bool with_text);

// Inserts with every field as given (times, status, interrupted); no current leaf yet.
RowId insert_imported_conversation(Database& db, const ConversationRecord& c);
RowId insert_imported_message(Database& db, RowId conversation_id, std::optional<RowId> parent_id,
                              const MessageRecord& m);
void set_imported_leaf(Database& db, RowId conversation_id, std::optional<RowId> leaf);

[[noreturn]] void bad_import(const std::string& where, const std::string& what);

}  // namespace ossdesk::storage::detail

// App settings: a small key/value table in the same file as the history, so
// one backup holds everything. Values are text; the app decides their format.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ossdesk::storage {

class Database;

std::optional<std::string> get_setting(Database& db, std::string_view key);
void set_setting(Database& db, std::string_view key, std::string_view value);  // insert or replace
bool remove_setting(Database& db, std::string_view key);                        // false when absent
std::map<std::string, std::string> all_settings(Database& db);

}  // namespace ossdesk::storage

// Settings key/value table (see settings.h).
#include "ossdesk/storage/settings.h"

#include "ossdesk/storage/database.h"
#include "sqlite_util.h"

namespace ossdesk::storage {
using detail::Statement;

std::optional<std::string> get_setting(Database& db, std::string_view key) {
  Statement st(db, "SELECT value FROM settings WHERE key = ?", "reading a setting");
  st.bind(1, key);
  if (!st.step()) return std::nullopt;
  return st.text(0);
}

void set_setting(Database& db, std::string_view key, std::string_view value) {
  Statement st(db, "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
               "saving a setting");
  st.bind(1, key).bind(2, value).run();
}

bool remove_setting(Database& db, std::string_view key) {
  Statement st(db, "DELETE FROM settings WHERE key = ?", "removing a setting");
  st.bind(1, key).run();
  return sqlite3_changes(db.handle()) > 0;
}

std::map<std::string, std::string> all_settings(Database& db) {
  Statement st(db, "SELECT key, value FROM settings ORDER BY key", "reading settings");
  std::map<std::string, std::string> out;
  while (st.step()) out.emplace(st.text(0), st.text(1));
  return out;
}

}  // namespace ossdesk::storage

// The schema's numbered ladder: step N turns a version N-1 file into version N.
//
// PRAGMA user_version holds the version. Each step's SQL is frozen once it
// ships (tests compare step 1 against a frozen copy); changes to the schema
// are new steps at the end. Database::open runs the missing steps, each in its
// own IMMEDIATE transaction together with its user_version bump, so a crash
// or a second process can never leave a half-migrated file.
#pragma once

#include <span>
#include <string_view>

namespace ossdesk::storage {

class Database;

struct Migration {
  int version{};             // user_version after this step
  std::string_view name{};   // what the step adds, for messages
  std::string_view sql{};    // frozen
};

// "OSSD": PRAGMA application_id of every ossdesk history file (set by step 1).
inline constexpr int kApplicationId = 0x4F535344;

std::span<const Migration> migration_ladder();
int latest_schema_version();

// Brings the file up to latest_schema_version(). Throws StorageError TooNew for
// a newer file, NotOurs for another application's database. Called by
// Database::open; safe to call when another process migrates at the same time.
void migrate(Database& db);

}  // namespace ossdesk::storage

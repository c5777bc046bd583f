// The one exception type the storage library throws.
//
// Every message names the history file and says what happened and what state
// the file was left in, so the CLI can print it as one line and the app can
// show it verbatim. `kind()` lets callers react (e.g. offer "free some space"
// on DiskFull) without parsing text.
#pragma once

#include <stdexcept>
#include <string>

namespace ossdesk::storage {

enum class StorageErrorKind {
  Corrupt,          // not a database, or a database that fails its integrity check
  NotOurs,          // a valid SQLite file that belongs to another application
  TooNew,           // written by a newer ossdesk (schema version above what this build knows)
  NeedsUpgrade,     // opened read-only but the schema is older than this build's
  DiskFull,         // SQLITE_FULL: the change was rolled back, the file is intact
  ReadOnly,         // the file, its folder or the connection is read-only
  CannotOpen,       // missing file, missing folder, permission denied
  Busy,             // another process held the lock longer than the busy timeout
  NotFound,         // a conversation or message id that does not exist
  InvalidArgument,  // a value the schema rejects (unknown role, effort, bad parent)
  BadImport,        // an export file that is malformed or not ours
  Io,               // the operating system reported an I/O error
  Internal,         // a bug: an invariant did not hold
};

const char* to_string(StorageErrorKind kind);

class StorageError : public std::runtime_error {
 public:
  StorageError(StorageErrorKind kind, const std::string& message, int sqlite_code = 0)
      : std::runtime_error(message), kind_(kind), sqlite_code_(sqlite_code) {}
  StorageErrorKind kind() const noexcept { return kind_; }
  // The extended SQLite result code behind the error, 0 when it did not come from SQLite.
  int sqlite_code() const noexcept { return sqlite_code_; }

 private:
  StorageErrorKind kind_;
  int sqlite_code_;
};

}  // namespace ossdesk::storage

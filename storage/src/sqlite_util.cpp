// Internal: Statement, Transaction and the mapping from SQLite result codes to
// StorageError messages that say what happened to the file.
#include "sqlite_util.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#ifndef _WIN32
#include <unistd.h>
#endif

namespace ossdesk::storage::detail {

StorageErrorKind kind_of(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return StorageErrorKind::Corrupt;
    case SQLITE_FULL: return StorageErrorKind::DiskFull;
    case SQLITE_READONLY: return StorageErrorKind::ReadOnly;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_AUTH: return StorageErrorKind::CannotOpen;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return StorageErrorKind::Busy;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE: return StorageErrorKind::InvalidArgument;
    case SQLITE_IOERR: return StorageErrorKind::Io;
    default: return StorageErrorKind::Internal;
  }
}

// SQLite's CANTOPEN/READONLY messages do not say which file or why; the
// access() checks (made as the current user) usually can.
std::string permission_hint(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path file(path);
  const fs::path folder = file.has_parent_path() ? file.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return " — the folder " + folder.string() + " does not exist";
#ifndef _WIN32
  if (access(folder.c_str(), W_OK) != 0)
    return " — the folder " + folder.string() +
           " is not writable (SQLite needs to create the history and its -wal and -shm files there)";
  if (fs::exists(file, ec) && access(file.c_str(), R_OK | W_OK) != 0)
    return " — the file is not readable and writable by this user";
#endif
  return {};
}

void throw_sqlite(sqlite3* db, const std::string& path, int rc, std::string_view doing) {
  const std::string prefix = path + ": ";
  const std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const int sys = db ? sqlite3_system_errno(db) : 0;
  const std::string os = sys ? std::string(" (") + std::strerror(sys) + ")" : std::string();
  const std::string what(doing);
  std::string message;
  const StorageErrorKind kind = kind_of(rc);
  switch (kind) {
    case StorageErrorKind::DiskFull:
      message = prefix + "disk full while " + what +
                "; the change was rolled back and the history file is intact — free some space and try again";
      break;
    case StorageErrorKind::ReadOnly:
    case StorageErrorKind::CannotOpen: {
      // The hint is more precise than errno, which SQLite often leaves at an unrelated ENOENT.
      const std::string hint = permission_hint(path);
      message = prefix + detail + " while " + what + (hint.empty() ? os : hint);
      break;
    }
    case StorageErrorKind::Busy:
      message = prefix + "another process kept the history locked while " + what + " (" + detail +
                "); nothing was changed — try again";
      break;
    case StorageErrorKind::Corrupt:
      message = prefix + detail + " while " + what;
      break;
    case StorageErrorKind::Io:
      message = prefix + "I/O error while " + what + ": " + detail + os;
      break;
    default:
      message = prefix + detail + " while " + what;
      break;
  }
  throw StorageError(kind, message, db ? sqlite3_extended_errcode(db) : rc);
}

std::string where(const Database& db) { return db.path().string() + ": "; }

Statement::Statement(Database& db, std::string_view sql, std::string_view doing) : db_(db), doing_(doing) {
  const int rc = sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) throw_sqlite(db.handle(), db.path().string(), rc, doing_);
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

#define OSSDESK_CHECK_BIND(call)                                                   \
  do {                                                                             \
    const int rc_ = (call);                                                        \
    if (rc_ != SQLITE_OK) throw_sqlite(db_.handle(), db_.path().string(), rc_, doing_); \
  } while (0)

Statement& Statement::bind(int index, std::int64_t value) {
  OSSDESK_CHECK_BIND(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}
Statement& Statement::bind(int index, double value) {
  OSSDESK_CHECK_BIND(sqlite3_bind_double(stmt_, index, value));
  return *this;
}
Statement& Statement::bind(int index, std::string_view value) {
  // SQLITE_TRANSIENT: SQLite copies, so callers may pass temporaries. A null
  // data pointer (an empty default string_view) would bind NULL, not ''.
  const char* data = value.data() ? value.data() : "";
  OSSDESK_CHECK_BIND(sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}
Statement& Statement::bind_null(int index) {
  OSSDESK_CHECK_BIND(sqlite3_bind_null(stmt_, index));
  return *this;
}
Statement& Statement::bind(int index, const std::optional<std::int64_t>& value) {
  return value ? bind(index, *value) : bind_null(index);
}
Statement& Statement::bind(int index, const std::optional<double>& value) {
  return value ? bind(index, *value) : bind_null(index);
}
Statement& Statement::bind_text_or_null(int index, std::string_view value) {
  return value.empty() ? bind_null(index) : bind(index, value);
}
#undef OSSDESK_CHECK_BIND

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw_sqlite(db_.handle(), db_.path().string(), rc, doing_);
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
std::int64_t Statement::int64(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::real(int column) const { return sqlite3_column_double(stmt_, column); }
std::string Statement::text(int column) const {
  const auto* bytes = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (!bytes) return {};
  return std::string(bytes, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}
std::optional<std::int64_t> Statement::opt_int64(int column) const {
  if (is_null(column)) return std::nullopt;
  return int64(column);
}
std::optional<double> Statement::opt_real(int column) const {
  if (is_null(column)) return std::nullopt;
  return real(column);
}

Transaction::Transaction(Database& db, std::string_view doing, Mode mode) : db_(db), doing_(doing) {
  nested_ = sqlite3_get_autocommit(db.handle()) == 0;
  db_.exec(nested_ ? "SAVEPOINT ossdesk_nested" : mode == Mode::Write ? "BEGIN IMMEDIATE" : "BEGIN", doing_);
}

Transaction::~Transaction() {
  if (done_) return;
  // Errors are ignored: SQLite may already have rolled back (e.g. after SQLITE_FULL).
  sqlite3* h = db_.handle();
  if (nested_) {
    sqlite3_exec(h, "ROLLBACK TO ossdesk_nested; RELEASE ossdesk_nested", nullptr, nullptr, nullptr);
  } else if (sqlite3_get_autocommit(h) == 0) {
    sqlite3_exec(h, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void Transaction::commit() {
  db_.exec(nested_ ? "RELEASE ossdesk_nested" : "COMMIT", doing_);
  done_ = true;
}

std::int64_t query_int64(Database& db, std::string_view sql, std::string_view doing) {
  Statement st(db, sql, doing);
  if (!st.step()) throw StorageError(StorageErrorKind::Internal, where(db) + "no row while " + std::string(doing));
  return st.int64(0);
}

}  // namespace ossdesk::storage::detail

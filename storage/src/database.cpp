// Database: opening a history file safely (see database.h for the guarantees).
#include "ossdesk/storage/database.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>
#include <vector>

#include "internal.h"
#include "ossdesk/storage/migrations.h"
#include "sqlite_util.h"

namespace ossdesk::storage {
namespace fs = std::filesystem;
using detail::Statement;

namespace {

// The SQLite message without our "path: " prefix, for use as a reason.
std::string strip_prefix(const std::string& message, const std::string& path) {
  const std::string prefix = path + ": ";
  return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
}

// Reads the schema and runs quick_check. Returns why the file is unusable, or nothing when it is fine.
std::optional<std::string> find_corruption(Database& db, bool check_integrity) {
  try {
    detail::query_int64(db, "SELECT count(*) FROM sqlite_schema", "reading the schema");
    if (!check_integrity) return std::nullopt;
    Statement st(db, "PRAGMA quick_check(5)", "checking the file's integrity");
    std::vector<std::string> rows;
    while (st.step()) rows.push_back(st.text(0));
    if (rows.size() == 1 && rows[0] == "ok") return std::nullopt;
    std::string reason = "the database failed its integrity check (";
    for (std::size_t i = 0; i < rows.size(); ++i) reason += (i ? "; " : "") + rows[i];
    return reason + ")";
  } catch (const StorageError& e) {
    if (e.kind() != StorageErrorKind::Corrupt) throw;
    return strip_prefix(e.what(), db.path().string());
  }
}

// PRAGMA journal_mode = WAL rewrites the file header, taking the write lock
// from inside the read transaction in which it looked at the header. SQLite
// does not call the busy handler there (waiting while holding a read lock can
// deadlock), so while another process switches the same file, as several do
// when they open an old history at once, the pragma fails at once with
// SQLITE_BUSY instead of waiting out the busy timeout. The failed statement
// has let go of its locks, so trying again waits for the other process as the
// timeout promises; once that one has switched, the header says WAL already
// and the pragma needs no write lock.
void switch_to_wal(Database& db) {
  using std::chrono::milliseconds;
  const auto deadline = std::chrono::steady_clock::now() + db.options().busy_timeout;
  for (milliseconds pause(1);; pause = std::min(pause * 2, milliseconds(50))) {
    try {
      Statement wal(db, "PRAGMA journal_mode = WAL", "switching to write-ahead logging");
      wal.run();  // a file system without shared memory keeps its rollback journal, which is crash-safe too
      return;
    } catch (const StorageError& e) {
      if (e.kind() != StorageErrorKind::Busy || std::chrono::steady_clock::now() + pause > deadline) throw;
    }
    std::this_thread::sleep_for(pause);
  }
}

// Pragmas every connection needs. Not persistent in the file, except journal_mode=WAL.
void configure(Database& db) {
  db.exec("PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON", "configuring the connection");
  if (db.options().read_only) return;
  switch_to_wal(db);
  db.exec(db.options().full_sync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
          "configuring durability");
}

// Read-only connections cannot migrate (require_ours already refused newer files).
void require_current_schema(Database& db) {
  const int version = db.schema_version();
  if (version == latest_schema_version()) return;
  throw StorageError(StorageErrorKind::NeedsUpgrade,
                     detail::where(db) + "the history uses schema " + std::to_string(version) +
                         " and must be upgraded to " + std::to_string(latest_schema_version()) +
                         " by opening it once for writing; it was not changed");
}

}  // namespace

Database Database::open(const fs::path& path, const OpenOptions& options) {
  Database db(path, options);
  const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (!fs::is_directory(folder))
    throw StorageError(StorageErrorKind::CannotOpen,
                       path.string() + ": cannot open the history: the folder " + folder.string() + " does not exist");
  if ((options.read_only || !options.create) && !fs::exists(path))
    throw StorageError(StorageErrorKind::CannotOpen, path.string() + ": cannot open the history: no such file");

  db.connect(!options.read_only && options.create);
  std::optional<std::string> reason;
  try {
    reason = find_corruption(db, options.check_integrity);
  } catch (...) {
    db.close_untouched();
    throw;
  }
  if (!reason) {
    try {
      // Before any pragma that writes (journal_mode): a file we must refuse stays byte-identical.
      detail::require_ours(db, db.schema_version());
      configure(db);
      if (options.read_only) {
        require_current_schema(db);
      } else {
        migrate(db);
        db.interrupted_on_open_ = detail::mark_interrupted_answers(db);
      }
      return db;
    } catch (const StorageError& e) {
      if (e.kind() != StorageErrorKind::Corrupt) {
        db.close_untouched();
        throw;
      }
      reason = strip_prefix(e.what(), path.string());
    }
  }

  if (options.read_only || options.on_corrupt == CorruptPolicy::Throw)
    throw StorageError(StorageErrorKind::Corrupt, path.string() + ": " + *reason + "; the file was left untouched");

  db.close_untouched();
  Recovery recovery;
  recovery.reason = *reason;
  recovery.moved_to = detail::move_aside(path);
  recovery.message = path.string() + ": " + *reason + " — moved aside to " + recovery.moved_to.string() +
                     "; a new empty history was created";
  db.connect(true);
  configure(db);
  migrate(db);
  db.recovery_ = std::move(recovery);
  return db;
}

void Database::connect(bool create) {
  int flags = options_.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (create) flags |= SQLITE_OPEN_CREATE;
  flags |= SQLITE_OPEN_FULLMUTEX;
  const int rc = sqlite3_open_v2(path_.string().c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    // Copy the message out before closing: throw_sqlite reads it from the handle.
    sqlite3* failed = db_;
    db_ = nullptr;
    try {
      detail::throw_sqlite(failed, path_.string(), rc, "opening the history");
    } catch (...) {
      sqlite3_close(failed);
      throw;
    }
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, static_cast<int>(options_.busy_timeout.count()));
}

void Database::close_untouched() noexcept {
  if (!db_) return;
  // Closing normally checkpoints the WAL into the file and deletes the WAL:
  // exactly what must not happen to a file we are refusing or moving aside.
  sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  int persist = 1;
  sqlite3_file_control(db_, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
  close();
}

void Database::close() noexcept {
  if (db_) sqlite3_close_v2(db_);
  db_ = nullptr;
}

Database::Database(Database&& other) noexcept
    : path_(std::move(other.path_)),
      options_(other.options_),
      db_(std::exchange(other.db_, nullptr)),
      recovery_(std::move(other.recovery_)),
      interrupted_on_open_(other.interrupted_on_open_) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    close();
    path_ = std::move(other.path_);
    options_ = other.options_;
    db_ = std::exchange(other.db_, nullptr);
    recovery_ = std::move(other.recovery_);
    interrupted_on_open_ = other.interrupted_on_open_;
  }
  return *this;
}

Database::~Database() { close(); }

int Database::schema_version() const {
  auto& self = const_cast<Database&>(*this);
  return static_cast<int>(detail::query_int64(self, "PRAGMA user_version", "reading the schema version"));
}

void Database::exec(std::string_view sql, std::string_view doing) {
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) detail::throw_sqlite(db_, path_.string(), rc, doing);
}

void Database::set_max_page_count(std::int64_t pages) {
  Statement st(*this, "PRAGMA max_page_count = " + std::to_string(pages), "limiting the file size");
  st.run();
}

bool Database::checkpoint_truncate() {
  int log = 0, done = 0;
  const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
  return rc == SQLITE_OK && log == 0;
}

std::string Database::integrity_check() {
  Statement st(*this, "PRAGMA integrity_check(20)", "checking the file's integrity");
  std::string result;
  while (st.step()) {
    if (!result.empty()) result += '\n';
    result += st.text(0);
  }
  return result;
}

}  // namespace ossdesk::storage

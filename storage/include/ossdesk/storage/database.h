// One connection to a history file: open, safety checks, pragmas, migrations.
//
// Opening is where the "never lose a word" guarantees start:
//  - a file that is not a database or fails PRAGMA quick_check is moved aside
//    (with its -wal/-shm) and never written; a new empty history takes its
//    place and recovery() says where the old one went;
//  - a file from another application or a newer ossdesk is refused untouched;
//  - the schema is brought to the current version one transactional step at a time;
//  - answers left `partial` by a writer process that no longer exists are
//    marked interrupted so the UI can say so.
// A Database is used by one thread at a time; open one per thread or process.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;

namespace ossdesk::storage {

enum class CorruptPolicy {
  MoveAsideAndCreate,  // rename the bad file to FILE.corrupt-YYYYMMDD-HHMMSS and start empty
  Throw,               // leave it where it is and throw StorageError(Corrupt)
};

struct OpenOptions {
  bool read_only = false;  // SQLITE_OPEN_READONLY: reads only, nothing is migrated or repaired
  bool create = true;      // create the file when it does not exist (ignored when read_only)
  bool check_integrity = true;  // run PRAGMA quick_check at open
  CorruptPolicy on_corrupt = CorruptPolicy::MoveAsideAndCreate;
  std::chrono::milliseconds busy_timeout{5000};  // how long to wait for another process's lock
  // FULL fsyncs the WAL at every commit so a power cut cannot take a committed
  // word; NORMAL is safe against process crashes only.
  bool full_sync = true;
};

// Set when open() found a bad file and moved it aside.
struct Recovery {
  std::filesystem::path moved_to{};  // where the bad file now is
  std::string reason{};              // what was wrong with it
  std::string message{};             // one line for the user, naming both files
};

class Database {
 public:
  // Throws StorageError. See the header comment for what happens to bad files.
  static Database open(const std::filesystem::path& path, const OpenOptions& options = {});

  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  const std::filesystem::path& path() const { return path_; }
  const OpenOptions& options() const { return options_; }
  const std::optional<Recovery>& recovery() const { return recovery_; }
  // Partial answers this open() marked interrupted because their writer was gone.
  int interrupted_on_open() const { return interrupted_on_open_; }
  int schema_version() const;

  // Runs one or more SQL statements that return no rows; throws StorageError naming `doing`.
  void exec(std::string_view sql, std::string_view doing = "running SQL");
  // Limits the file to this many pages (per connection); tests use it to simulate a full disk.
  void set_max_page_count(std::int64_t pages);
  // Copies the WAL into the file and truncates it; best effort when another process is reading.
  bool checkpoint_truncate();
  // PRAGMA integrity_check: "ok" or the first problems found.
  std::string integrity_check();

  // The raw handle, for the library's own statements and for tests.
  sqlite3* handle() const { return db_; }

 private:
  Database(std::filesystem::path path, OpenOptions options) : path_(std::move(path)), options_(options) {}
  void connect(bool create);
  void close() noexcept;
  void close_untouched() noexcept;  // close without checkpointing or deleting the WAL

  std::filesystem::path path_;
  OpenOptions options_;
  sqlite3* db_ = nullptr;
  std::optional<Recovery> recovery_;
  int interrupted_on_open_ = 0;
};

}  // namespace ossdesk::storage

// Internal: thin RAII wrappers over the SQLite C API used by every source file.
//
// Statement prepares, binds and steps one statement and turns any failure into
// a StorageError that names the file and what was being done. Transaction
// starts BEGIN IMMEDIATE (so a writer takes the lock up front and waits in the
// busy handler instead of failing later with SQLITE_BUSY_SNAPSHOT), nests as a
// SAVEPOINT, and rolls back unless commit() succeeded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <sqlite3.h>

#include "ossdesk/storage/database.h"
#include "ossdesk/storage/error.h"
#include "ossdesk/storage/types.h"

namespace ossdesk::storage::detail {

// Throws the StorageError for SQLite result `rc` on `db`, naming `path` and what was being done.
[[noreturn]] void throw_sqlite(sqlite3* db, const std::string& path, int rc, std::string_view doing);
// The kind a SQLite result code maps to.
StorageErrorKind kind_of(int rc);

class Statement {
 public:
  Statement(Database& db, std::string_view sql, std::string_view doing);
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, bool value) { return bind(index, static_cast<std::int64_t>(value ? 1 : 0)); }
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind_null(int index);
  // Empty optional binds NULL.
  Statement& bind(int index, const std::optional<std::int64_t>& value);
  Statement& bind(int index, const std::optional<double>& value);
  // Empty text binds NULL (for columns where NULL means "not recorded").
  Statement& bind_text_or_null(int index, std::string_view value);

  bool step();  // true while a row is available
  void run();   // steps to the end
  void reset();

  bool is_null(int column) const;
  std::int64_t int64(int column) const;
  double real(int column) const;
  std::string text(int column) const;
  std::optional<std::int64_t> opt_int64(int column) const;
  std::optional<double> opt_real(int column) const;

 private:
  Database& db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string doing_;
};

class Transaction {
 public:
  enum class Mode { Write, Read };  // Read: a deferred BEGIN, a consistent snapshot without the write lock
  Transaction(Database& db, std::string_view doing, Mode mode = Mode::Write);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  void commit();

 private:
  Database& db_;
  std::string doing_;
  bool nested_ = false;
  bool done_ = false;
};

// "path: " prefix used by every message.
std::string where(const Database& db);

// Single-value queries.
std::int64_t query_int64(Database& db, std::string_view sql, std::string_view doing);

}  // namespace ossdesk::storage::detail

// Shared helpers for the storage tests: scratch folders, raw file access and
// an independent SQLite connection (so checks do not go through the code under test).
#pragma once

#include <QtTest/QtTest>

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "ossdesk/storage/error.h"

namespace storage_test {

namespace fs = std::filesystem;

// A fresh folder under the build's test-work dir, removed at the end.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name) {
    path_ = fs::path(OSSDESK_TEST_WORK_DIR) / "storage" / (name + "-" + std::to_string(QCoreApplication::applicationPid()));
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path file(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

inline std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

inline std::string read_text_file(const std::string& path) { return read_bytes(fs::path(path)); }

// A plain sqlite3 connection for checking what is really in the file.
class RawDb {
 public:
  explicit RawDb(const fs::path& p, int flags = SQLITE_OPEN_READWRITE) {
    if (sqlite3_open_v2(p.string().c_str(), &db_, flags, nullptr) != SQLITE_OK)
      qFatal("cannot open %s: %s", p.string().c_str(), sqlite3_errmsg(db_));
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  sqlite3* handle() { return db_; }

  // Runs SQL; returns "" or the error message.
  std::string exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) == SQLITE_OK) return {};
    std::string message = err ? err : "error";
    sqlite3_free(err);
    return message;
  }
  // First column of every row, as text ("NULL" for null).
  std::vector<std::string> column(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    std::vector<std::string> out;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      out.push_back(std::string("ERROR: ") + sqlite3_errmsg(db_));
      return out;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
      out.push_back(t ? std::string(t, static_cast<std::size_t>(sqlite3_column_bytes(st, 0))) : "NULL");
    }
    if (rc != SQLITE_DONE) out.push_back(std::string("ERROR: ") + sqlite3_errmsg(db_));
    sqlite3_finalize(st);
    return out;
  }
  std::string value(const std::string& sql) {
    auto c = column(sql);
    return c.empty() ? std::string("<no row>") : c.front();
  }
  long long number(const std::string& sql) { return std::stoll(value(sql)); }

 private:
  sqlite3* db_ = nullptr;
};

struct Caught {
  bool thrown = false;
  ossdesk::storage::StorageErrorKind kind{};
  std::string message;
};

inline Caught catch_storage_error(const std::function<void()>& f) {
  Caught c;
  try {
    f();
  } catch (const ossdesk::storage::StorageError& e) {
    c.thrown = true;
    c.kind = e.kind();
    c.message = e.what();
  }
  return c;
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

inline std::vector<fs::path> files_starting_with(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace storage_test

// QCOMPARE prints std::string values.
namespace QTest {
template <>
inline char* toString(const std::string& s) {
  return QTest::toString(QString::fromStdString(s));
}
}  // namespace QTest

// Runs `expr`, requires a StorageError of `expected_kind`, and keeps it in `var` for message checks.
#define EXPECT_STORAGE_ERROR(var, expr, expected_kind)                                                  \
  const storage_test::Caught var = storage_test::catch_storage_error([&] { (void)(expr); });           \
  QVERIFY2(var.thrown, "expected a StorageError from: " #expr);                                        \
  QVERIFY2(var.kind == (expected_kind),                                                                \
           (std::string("wrong error kind ") + ossdesk::storage::to_string(var.kind) + ": " + var.message).c_str())

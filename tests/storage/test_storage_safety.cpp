// Safety: files that are not databases or are corrupt are moved aside (never
// overwritten) with a clear message; read-only files and folders, a full disk
// and a lock held by another process give clear errors and lose nothing; two
// processes writing at once both get all their rows in.
#include <QProcess>

#include <unistd.h>

#include "ossdesk/storage/conversations.h"
#include "ossdesk/storage/database.h"
#include "ossdesk/storage/export.h"
#include "ossdesk/storage/messages.h"
#include "ossdesk/storage/streaming.h"
#include "storage_test_support.h"

using namespace ossdesk::storage;
using storage_test::RawDb;
using storage_test::ScratchDir;
namespace fs = std::filesystem;

namespace {

NewMessage text(const std::string& t) {
  NewMessage m;
  m.content = t;
  return m;
}

// A history with `n` messages, closed again.
RowId make_history(const fs::path& path, int n) {
  Database db = Database::open(path);
  const RowId c = create_conversation(db, {.title = "keep me", .settings = {}, .created_ms = {}});
  for (int i = 0; i < n; ++i) append_message(db, c, text("message " + std::to_string(i) + std::string(200, 'x')));
  return c;
}

struct HelperResult {
  int exit_code = -1;
  std::string out;
};

HelperResult run_helper(const QStringList& args, int timeout_ms = 30000) {
  QProcess p;
  p.start(QStringLiteral(STORAGE_HELPER_PATH), args);
  HelperResult r;
  if (!p.waitForFinished(timeout_ms)) {
    p.kill();
    p.waitForFinished();
    r.out = "(timed out)";
    return r;
  }
  r.exit_code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = (p.readAllStandardOutput() + p.readAllStandardError()).toStdString();
  return r;
}

}  // namespace

class TestStorageSafety : public QObject {
  Q_OBJECT

 private slots:
  void not_a_database_is_moved_aside() {
    ScratchDir dir("safety-notadb");
    const auto path = dir.file("h.db");
    const std::string junk = "These are my notes, not a database.\n" + std::string(5000, 'z');
    storage_test::write_bytes(path, junk);
    storage_test::write_bytes(path.string() + "-wal", "stale wal");
    Database db = Database::open(path);
    QVERIFY(db.recovery().has_value());
    const Recovery r = *db.recovery();  // a copy: db is reassigned below
    QVERIFY2(storage_test::contains(r.message, "file is not a database"), r.message.c_str());
    QVERIFY(storage_test::contains(r.message, path.string()));
    QVERIFY(storage_test::contains(r.message, r.moved_to.string()));
    QVERIFY(storage_test::contains(r.message, "a new empty history was created"));
    QVERIFY(r.moved_to.filename().string().starts_with("h.db.corrupt-"));
    QCOMPARE(storage_test::read_bytes(r.moved_to), junk);  // never overwritten
    QCOMPARE(storage_test::read_bytes(r.moved_to.string() + "-wal"), std::string("stale wal"));
    // The new history works.
    const RowId c = create_conversation(db, {.title = "fresh", .settings = {}, .created_ms = {}});
    append_message(db, c, text("hello"));
    QCOMPARE(list_conversations(db).size(), std::size_t{1});

    // A second bad file on the same second gets its own name.
    db = Database::open(dir.file("other.db"));
    storage_test::write_bytes(path, junk);
    storage_test::write_bytes(path.string() + "-wal", "");
    storage_test::write_bytes(path.string() + "-shm", "");
    Database again = Database::open(path);
    QVERIFY(again.recovery().has_value());
    QVERIFY(again.recovery()->moved_to != r.moved_to);
    QCOMPARE(storage_test::read_bytes(r.moved_to), junk);
  }

  void corrupt_database_is_moved_aside() {
    ScratchDir dir("safety-corrupt");
    const auto path = dir.file("h.db");
    make_history(path, 300);
    std::string bytes = storage_test::read_bytes(path);
    QVERIFY(bytes.size() > 20 * 4096);
    // Clobber a few b-tree pages in the middle (the header and schema stay readable).
    for (std::size_t page = 8; page < 11; ++page)
      for (std::size_t i = 0; i < 4096; ++i) bytes[page * 4096 + i] = static_cast<char>((i * 37 + page) & 0xFF);
    storage_test::write_bytes(path, bytes);

    // Policy Throw and read-only opens report it and leave the file alone.
    EXPECT_STORAGE_ERROR(e, Database::open(path, {.on_corrupt = CorruptPolicy::Throw}), StorageErrorKind::Corrupt);
    QVERIFY2(storage_test::contains(e.message, "left untouched"), e.message.c_str());
    QVERIFY(storage_test::read_bytes(path) == bytes);
    EXPECT_STORAGE_ERROR(ro, Database::open(path, {.read_only = true}), StorageErrorKind::Corrupt);
    QVERIFY(storage_test::read_bytes(path) == bytes);
    QVERIFY(storage_test::files_starting_with(dir.path(), "h.db.corrupt").empty());

    Database db = Database::open(path);
    QVERIFY(db.recovery().has_value());
    QVERIFY2(storage_test::contains(db.recovery()->reason, "malformed") ||
                 storage_test::contains(db.recovery()->reason, "integrity check"),
             db.recovery()->reason.c_str());
    QVERIFY(storage_test::read_bytes(db.recovery()->moved_to) == bytes);
    QVERIFY(list_conversations(db).empty());
    QCOMPARE(db.integrity_check(), std::string("ok"));
  }

  void read_only_connection_refuses_writes_clearly() {
    ScratchDir dir("safety-ro");
    const auto path = dir.file("h.db");
    const RowId c = make_history(path, 3);
    const std::string before = storage_test::read_bytes(path);
    Database db = Database::open(path, {.read_only = true});
    QCOMPARE(visible_thread(db, c).size(), std::size_t{3});
    EXPECT_STORAGE_ERROR(e, append_message(db, c, text("no")), StorageErrorKind::ReadOnly);
    QVERIFY2(storage_test::contains(e.message, path.string()), e.message.c_str());
    QVERIFY(storage_test::contains(e.message, "readonly") || storage_test::contains(e.message, "read-only"));
    QVERIFY(!export_json(db).empty());  // reading and exporting still work
    QCOMPARE(storage_test::read_bytes(path), before);
  }

  void read_only_folder_gives_a_clear_error() {
    // Root ignores permission bits, so as root the helper drops to `nobody` first.
    QTemporaryDir tmp;  // under /tmp, which `nobody` can traverse
    QVERIFY(tmp.isValid());
    const fs::path folder = fs::path(tmp.path().toStdString()) / "locked";
    fs::create_directories(folder);
    const fs::path existing = folder / "existing.db";
    make_history(existing, 2);
    fs::permissions(existing, fs::perms::all);  // the file itself is writable by anyone
    const std::string before = storage_test::read_bytes(existing);
    fs::permissions(tmp.path().toStdString(), fs::perms::owner_all | fs::perms::others_exec | fs::perms::group_exec);
    fs::permissions(folder, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
    const bool root = geteuid() == 0;
    QStringList drop = root ? QStringList{"--drop-root"} : QStringList{};

    // A new history in the read-only folder.
    const auto fresh = run_helper(QStringList{"open", QString::fromStdString((folder / "new.db").string())} + drop);
    QCOMPARE(fresh.exit_code, 2);
    QVERIFY2(storage_test::contains(fresh.out, "error cannot-open"), fresh.out.c_str());
    QVERIFY(storage_test::contains(fresh.out, "not writable"));
    QVERIFY(!fs::exists(folder / "new.db"));

    // An existing history there: SQLite cannot create its -wal next to it.
    const auto old = run_helper(QStringList{"open", QString::fromStdString(existing.string())} + drop);
    QCOMPARE(old.exit_code, 2);
    QVERIFY2(storage_test::contains(old.out, existing.string()), old.out.c_str());
    QVERIFY(!storage_test::contains(old.out, "error corrupt"));  // a permission problem is not corruption
    fs::permissions(folder, fs::perms::owner_all);
    QCOMPARE(storage_test::read_bytes(existing), before);
    QVERIFY(storage_test::files_starting_with(folder, "existing.db.corrupt").empty());
  }

  void missing_folder_is_named() {
    EXPECT_STORAGE_ERROR(e, Database::open("/nonexistent-ossdesk-dir/h.db"), StorageErrorKind::CannotOpen);
    QVERIFY(storage_test::contains(e.message, "the folder /nonexistent-ossdesk-dir does not exist"));
    ScratchDir dir("safety-missing");
    EXPECT_STORAGE_ERROR(f, Database::open(dir.file("nope.db"), {.read_only = true}), StorageErrorKind::CannotOpen);
    QVERIFY(storage_test::contains(f.message, "no such file"));
  }

  void disk_full_rolls_back_and_keeps_everything() {
    ScratchDir dir("safety-full");
    const auto path = dir.file("h.db");
    Database db = Database::open(path);
    const RowId c = create_conversation(db, {.title = "t", .settings = {}, .created_ms = {}});
    const RowId u = append_message(db, c, text("question before the disk filled up"));
    RawDb raw(path);
    const long long pages = raw.number("PRAGMA page_count");
    db.set_max_page_count(pages + 8);  // room for a few small writes, not for a big one

    std::vector<std::string> saved;
    StorageError failure(StorageErrorKind::Internal, "none");
    bool failed = false;
    for (int i = 0; i < 200 && !failed; ++i) {
      const std::string body = "row " + std::to_string(i) + " " + std::string(3000, 'a' + i % 26);
      try {
        append_message(db, c, text(body));
        saved.push_back(body);
      } catch (const StorageError& e) {
        failure = e;
        failed = true;
      }
    }
    QVERIFY(failed);
    QVERIFY2(failure.kind() == StorageErrorKind::DiskFull, failure.what());
    const std::string message = failure.what();
    QVERIFY(storage_test::contains(message, path.string()));
    QVERIFY(storage_test::contains(message, "disk full"));
    QVERIFY(storage_test::contains(message, "history file is intact"));
    // Everything committed before the failure is there, nothing half-written after it.
    const auto thread = visible_thread(db, c);
    QCOMPARE(thread.size(), saved.size() + 1);
    for (std::size_t i = 0; i < saved.size(); ++i) QCOMPARE(thread[i + 1].content, saved[i]);
    QCOMPARE(raw.value("PRAGMA integrity_check"), std::string("ok"));

    // Streaming while full: the flush fails, the text stays buffered, and is saved once there is room.
    {
      StreamingAnswerWriter w(db, c, u, {}, {.flush_interval = std::chrono::milliseconds(0)});
      bool flush_failed = false;
      std::string sent;
      for (int i = 0; i < 50 && !flush_failed; ++i) {
        const std::string delta = std::string(1000, 'q') + std::to_string(i);
        sent += delta;
        try {
          w.append_content(delta);
        } catch (const StorageError& e) {
          QVERIFY2(e.kind() == StorageErrorKind::DiskFull, e.what());
          flush_failed = true;
        }
      }
      QVERIFY(flush_failed);
      db.set_max_page_count(1'000'000);  // space was freed
      w.finish(MessageStatus::Complete);
      QCOMPARE(get_message(db, w.message_id()).content, sent);
    }

    // An import that does not fit is rolled back as a whole.
    const std::string dump = export_json(db);
    const auto before = raw.number("SELECT count(*) FROM messages");
    db.set_max_page_count(raw.number("PRAGMA page_count") + 2);
    EXPECT_STORAGE_ERROR(e, import_json(db, dump), StorageErrorKind::DiskFull);
    QCOMPARE(raw.number("SELECT count(*) FROM messages"), before);
    QCOMPARE(raw.number("SELECT count(*) FROM conversations"), 1LL);
    QCOMPARE(raw.value("PRAGMA integrity_check"), std::string("ok"));
  }

  void busy_lock_gives_a_clear_error() {
    ScratchDir dir("safety-busy");
    const auto path = dir.file("h.db");
    const RowId c = make_history(path, 1);
    Database db = Database::open(path, {.busy_timeout = std::chrono::milliseconds(200)});
    RawDb other(path);
    QCOMPARE(other.exec("BEGIN IMMEDIATE"), std::string());
    EXPECT_STORAGE_ERROR(e, append_message(db, c, text("waits")), StorageErrorKind::Busy);
    QVERIFY2(storage_test::contains(e.message, "another process kept the history locked"), e.message.c_str());
    QVERIFY(storage_test::contains(e.message, "nothing was changed"));
    QCOMPARE(other.exec("COMMIT"), std::string());
    append_message(db, c, text("now it fits"));
    QCOMPARE(visible_thread(db, c).size(), std::size_t{2});
  }

  void two_writers_lose_nothing() {
    ScratchDir dir("safety-two");
    const auto path = dir.file("h.db");
    RowId c;
    {
      Database db = Database::open(path);
      c = create_conversation(db, {.title = "shared", .settings = {}, .created_ms = {}});
    }
    constexpr int kCount = 150;
    const QString db_arg = QString::fromStdString(path.string());
    QProcess a, b;
    a.start(QStringLiteral(STORAGE_HELPER_PATH), {"insert", db_arg, QString::number(c), QString::number(kCount), "A"});
    b.start(QStringLiteral(STORAGE_HELPER_PATH), {"insert", db_arg, QString::number(c), QString::number(kCount), "B"});
    QVERIFY(a.waitForFinished(60000));
    QVERIFY(b.waitForFinished(60000));
    QVERIFY2(a.exitCode() == 0, a.readAllStandardError().constData());
    QVERIFY2(b.exitCode() == 0, b.readAllStandardError().constData());

    RawDb raw(path);
    QCOMPARE(raw.value("PRAGMA integrity_check"), std::string("ok"));
    QCOMPARE(raw.number("SELECT count(*) FROM messages WHERE content LIKE 'A-%'"), static_cast<long long>(kCount));
    QCOMPARE(raw.number("SELECT count(*) FROM messages WHERE content LIKE 'B-%'"), static_cast<long long>(kCount));
    // Each append read the leaf and inserted under one lock, so the result is one unbroken thread.
    QCOMPARE(raw.number("SELECT count(*) FROM (SELECT parent_id FROM messages GROUP BY parent_id HAVING count(*) > 1)"), 0LL);
    Database db = Database::open(path);
    const auto thread = visible_thread(db, c);
    QCOMPARE(thread.size(), static_cast<std::size_t>(2 * kCount));
    // Each writer's own messages keep their order.
    int next_a = 0, next_b = 0;
    for (const auto& m : thread) {
      if (m.content[0] == 'A') QCOMPARE(m.content, "A-" + std::to_string(next_a++));
      else QCOMPARE(m.content, "B-" + std::to_string(next_b++));
    }
  }
};

QTEST_GUILESS_MAIN(TestStorageSafety)
#include "test_storage_safety.moc"

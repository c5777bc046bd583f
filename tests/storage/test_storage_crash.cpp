// Crash safety without the CLI: storage_crash_writer streams an answer the way
// `ossdesk-cli chat` does and is killed with SIGKILL at several moments. The
// file must pass integrity_check, hold the user message and the partial
// answer (a clean prefix of what was streamed, non-empty once a flush
// interval has passed), and the next open must mark the answer interrupted.
// Kills during startup (open, schema creation) must leave a usable file too.
#include <QProcess>

#include <thread>

#include "crash_stream.h"
#include "ossdesk/storage/database.h"
#include "ossdesk/storage/messages.h"
#include "ossdesk/storage/migrations.h"
#include "storage_test_support.h"

using namespace ossdesk::storage;
using storage_test::RawDb;
using storage_test::ScratchDir;

class TestStorageCrash : public QObject {
  Q_OBJECT

 private slots:
  void kill_while_streaming_data() {
    QTest::addColumn<int>("kill_ms");
    for (int ms : {50, 200, 600, 1500}) QTest::addRow("%d ms", ms) << ms;
  }

  void kill_while_streaming() {
    QFETCH(int, kill_ms);
    ScratchDir dir("crash-stream-" + std::to_string(kill_ms));
    const auto path = dir.file("h.db");
    QProcess writer;
    writer.start(QStringLiteral(STORAGE_HELPER_PATH), {"stream", QString::fromStdString(path.string())});
    QVERIFY(writer.waitForStarted());
    const qint64 pid = writer.processId();
    QVERIFY2(writer.waitForReadyRead(30000), writer.readAllStandardError().constData());
    const QList<QByteArray> ready = writer.readLine().trimmed().split(' ');
    QCOMPARE(ready.size(), 4);
    QCOMPARE(ready[0], QByteArray("ready"));
    const RowId conversation = ready[1].toLongLong(), user = ready[2].toLongLong(), answer = ready[3].toLongLong();

    std::this_thread::sleep_for(std::chrono::milliseconds(kill_ms));
    writer.kill();  // SIGKILL: no destructors, no atexit, a hot WAL left behind
    QVERIFY(writer.waitForFinished(10000));
    QCOMPARE(writer.exitStatus(), QProcess::CrashExit);

    std::string saved_content, saved_reasoning;
    {
      // What a fresh process finds, before the library touches the file.
      RawDb raw(path);
      QCOMPARE(raw.value("PRAGMA integrity_check"), std::string("ok"));
      QCOMPARE(raw.value("SELECT content FROM messages WHERE id = " + std::to_string(user)),
               std::string(crash_stream::kQuestion));
      const std::string a = " FROM messages WHERE id = " + std::to_string(answer);
      QCOMPARE(raw.value("SELECT status" + a), std::string("partial"));
      QCOMPARE(raw.value("SELECT interrupted" + a), std::string("0"));
      QCOMPARE(raw.number("SELECT writer_pid" + a), static_cast<long long>(pid));
      QCOMPARE(raw.value("SELECT parent_id" + a), std::to_string(user));
      saved_content = raw.value("SELECT content" + a);
      saved_reasoning = raw.value("SELECT reasoning" + a);
    }
    qInfo("killed after %d ms: %zu bytes of reasoning and %zu bytes of answer were saved", kill_ms,
          saved_reasoning.size(), saved_content.size());
    // Exactly a prefix of what was streamed, channel by channel.
    QVERIFY(crash_stream::expected_text(false, saved_content.size()).rfind(saved_content, 0) == 0);
    QVERIFY(crash_stream::expected_text(true, saved_reasoning.size()).rfind(saved_reasoning, 0) == 0);
    if (kill_ms >= 600) {
      QVERIFY2(!saved_content.empty(), "no answer text saved after two flush intervals");
      QVERIFY(!saved_reasoning.empty());
    }

    Database db = Database::open(path);
    QVERIFY(!db.recovery());
    QCOMPARE(db.interrupted_on_open(), 1);
    const auto thread = visible_thread(db, conversation);
    QCOMPARE(thread.size(), std::size_t{2});
    QCOMPARE(thread[0].id, user);
    QCOMPARE(thread[1].id, answer);
    QVERIFY(thread[1].status == MessageStatus::Partial);
    QVERIFY(thread[1].interrupted);
    QCOMPARE(thread[1].content, saved_content);
    QCOMPARE(db.integrity_check(), std::string("ok"));
  }

  void kill_during_startup_data() {
    QTest::addColumn<int>("kill_ms");
    for (int ms : {0, 3, 10, 30}) QTest::addRow("%d ms", ms) << ms;
  }

  void kill_during_startup() {
    // The helper may be creating the file or the schema when it dies.
    QFETCH(int, kill_ms);
    ScratchDir dir("crash-start-" + std::to_string(kill_ms));
    const auto path = dir.file("h.db");
    QProcess writer;
    writer.start(QStringLiteral(STORAGE_HELPER_PATH), {"stream", QString::fromStdString(path.string())});
    QVERIFY(writer.waitForStarted());
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_ms));
    writer.kill();
    QVERIFY(writer.waitForFinished(10000));

    Database db = Database::open(path);
    QVERIFY2(!db.recovery(), db.recovery() ? db.recovery()->message.c_str() : "");
    QCOMPARE(db.schema_version(), latest_schema_version());
    QCOMPARE(db.integrity_check(), std::string("ok"));
    RawDb raw(path);
    // Whatever got in is consistent: an answer row only with its question.
    QCOMPARE(raw.number("SELECT count(*) FROM messages m WHERE m.role = 'assistant' AND m.parent_id IS NULL"), 0LL);
    QCOMPARE(raw.number("SELECT count(*) FROM messages WHERE status = 'partial' AND interrupted = 0"), 0LL);
  }
};

QTEST_GUILESS_MAIN(TestStorageCrash)
#include "test_storage_crash.moc"

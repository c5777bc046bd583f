// `ossdesk-cli chat` on a real (tiny, random) model, killed with SIGKILL in
// the middle of its answer at several moments: the database passes
// integrity_check, holds the user message and the partial answer saved so
// far, the next open marks it interrupted, `history --json` shows it, and the
// conversation carries on with another `chat --conversation ID`.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>

#include <thread>

#include "ossdesk/storage/database.h"
#include "ossdesk/storage/messages.h"
#include "storage_test_support.h"
#include "tiny_model.h"

using namespace ossdesk::storage;
using storage_test::RawDb;
using storage_test::ScratchDir;
namespace fs = std::filesystem;

namespace {

const char* kQuestion = "Tell me a very long story about a lighthouse keeper.";

QStringList chat_args(const fs::path& db, const QString& message, int max_tokens) {
  return {"chat", "--model", QString::fromStdString(ossdesk::test::tiny_chat_model()), "--db", QString::fromStdString(db.string()),
          "--message", message, "--max-tokens", QString::number(max_tokens), "--backend", "cpu", "--temperature", "1",
          "--seed", "7"};
}

}  // namespace

class TestCliChatCrash : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { ossdesk::test::tiny_chat_model(); }  // make the model before any timing starts

  void kill_mid_answer_data() {
    QTest::addColumn<int>("kill_ms");
    for (int ms : {300, 1500, 3000}) QTest::addRow("%d ms", ms) << ms;
  }

  void kill_mid_answer() {
    QFETCH(int, kill_ms);
    ScratchDir dir("cli-chat-crash-" + std::to_string(kill_ms));
    const fs::path db = dir.file("history.db");
    QProcess chat;
    chat.start(OSSDESK_CLI_PATH, chat_args(db, kQuestion, 100000));
    QVERIFY(chat.waitForStarted());
    QVERIFY2(chat.waitForReadyRead(60000), chat.readAllStandardError().constData());
    bool ok = false;
    const RowId conversation = chat.readLine().trimmed().toLongLong(&ok);
    QVERIFY2(ok, "the first line is not the conversation id");
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_ms));
    QCOMPARE(chat.state(), QProcess::Running);  // still answering: 100000 tokens take minutes
    chat.kill();
    QVERIFY(chat.waitForFinished(10000));
    QCOMPARE(chat.exitStatus(), QProcess::CrashExit);

    std::string saved;
    {
      RawDb raw(db);
      QCOMPARE(raw.value("PRAGMA integrity_check"), std::string("ok"));
      const std::string where = " FROM messages WHERE conversation_id = " + std::to_string(conversation);
      QCOMPARE(raw.value("SELECT content" + where + " AND role = 'user'"), std::string(kQuestion));
      const long long answers = raw.number("SELECT count(*)" + where + " AND role = 'assistant'");
      if (kill_ms >= 1500) QCOMPARE(answers, 1LL);  // the model is loaded and streaming by then
      if (answers == 1) {
        QCOMPARE(raw.value("SELECT status" + where + " AND role = 'assistant'"), std::string("partial"));
        saved = raw.value("SELECT content" + where + " AND role = 'assistant'") +
                raw.value("SELECT reasoning" + where + " AND role = 'assistant'");
      }
    }
    qInfo("killed %d ms into the answer: %zu bytes of it were saved", kill_ms, saved.size());
    if (kill_ms >= 3000) QVERIFY2(!saved.empty(), "nothing of the answer was saved after 3 s of streaming");

    {
      Database reopened = Database::open(db);
      const auto thread = visible_thread(reopened, conversation);
      QVERIFY(!thread.empty());
      QCOMPARE(thread[0].content, std::string(kQuestion));
      if (thread.size() == 2) {
        QCOMPARE(reopened.interrupted_on_open(), 1);
        QVERIFY(thread[1].interrupted);
        QVERIFY(thread[1].status == MessageStatus::Partial);
      }
    }

    QProcess history;
    history.start(OSSDESK_CLI_PATH, {"history", "--db", QString::fromStdString(db.string()), "--conversation",
                                     QString::number(conversation), "--json"});
    QVERIFY(history.waitForFinished(30000));
    QCOMPARE(history.exitCode(), 0);
    const QJsonDocument doc = QJsonDocument::fromJson(history.readAllStandardOutput());
    QVERIFY2(!doc.isNull(), "history --json is not JSON");
    QVERIFY(QString::fromUtf8(doc.toJson()).contains(kQuestion));

    // The same conversation goes on.
    QProcess next;
    QStringList args = chat_args(db, "Please continue.", 8);
    args << "--conversation" << QString::number(conversation);
    next.start(OSSDESK_CLI_PATH, args);
    QVERIFY(next.waitForFinished(120000));
    QVERIFY2(next.exitCode() == 0, next.readAllStandardError().constData());
    QCOMPARE(next.readLine().trimmed().toLongLong(), conversation);
    Database after = Database::open(db);
    const auto thread = visible_thread(after, conversation);
    QCOMPARE(thread.back().role, Role::Assistant);
    QVERIFY(thread.back().status == MessageStatus::Complete);
    QCOMPARE(thread.back().stats.generated_tokens.value_or(0) > 0, true);
    QCOMPARE(thread.back().stats.backend, std::string("cpu"));
    QCOMPARE(thread[thread.size() - 2].content, std::string("Please continue."));
  }
};

QTEST_GUILESS_MAIN(TestCliChatCrash)
#include "test_cli_chat_crash.moc"

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

#include "ossdesk/storage/conversations.h"
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

  // When to kill: `kill_ms` after the conversation id is printed, or (with
  // after_text) that long after the first answer text reached the file, so
  // the test means the same on a fast machine and under ASan.
  void kill_mid_answer_data() {
    QTest::addColumn<int>("kill_ms");
    QTest::addColumn<bool>("after_text");
    QTest::addRow("right after the id") << 0 << false;
    QTest::addRow("300 ms after the id") << 300 << false;
    QTest::addRow("as soon as text is saved") << 0 << true;
    QTest::addRow("1 s after text is saved") << 1000 << true;
  }

  void kill_mid_answer() {
    QFETCH(int, kill_ms);
    QFETCH(bool, after_text);
    ScratchDir dir("cli-chat-crash-" + std::to_string(kill_ms) + (after_text ? "-text" : ""));
    const fs::path db = dir.file("history.db");
    QProcess chat;
    chat.start(OSSDESK_CLI_PATH, chat_args(db, kQuestion, 100000));
    QVERIFY(chat.waitForStarted());
    QVERIFY2(chat.waitForReadyRead(60000), chat.readAllStandardError().constData());
    bool ok = false;
    const RowId conversation = chat.readLine().trimmed().toLongLong(&ok);
    QVERIFY2(ok, "the first line is not the conversation id");
    if (after_text) {
      const std::string saved_text = "SELECT coalesce(sum(length(content) + length(reasoning)), 0) FROM messages WHERE role = 'assistant'";
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
      for (;;) {
        {
          RawDb peek(db, SQLITE_OPEN_READONLY);
          if (peek.number(saved_text) > 0) break;
        }
        QVERIFY2(std::chrono::steady_clock::now() < deadline, "no answer text was saved within 2 minutes");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
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
      if (after_text) QCOMPARE(answers, 1LL);
      if (answers == 1) {
        QCOMPARE(raw.value("SELECT status" + where + " AND role = 'assistant'"), std::string("partial"));
        saved = raw.value("SELECT content" + where + " AND role = 'assistant'") +
                raw.value("SELECT reasoning" + where + " AND role = 'assistant'");
      }
    }
    qInfo("killed %d ms into the answer: %zu bytes of it were saved", kill_ms, saved.size());
    if (after_text) QVERIFY2(!saved.empty(), "the saved answer text is gone");

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
    // The conversation keeps the sampling it was started with.
    const ConversationRecord record = get_conversation(after, conversation);
    QCOMPARE(record.settings.sampling.seed.value_or(-1), 7LL);
    QCOMPARE(record.settings.sampling.temperature.value_or(-1.0), 1.0);
  }
};

QTEST_GUILESS_MAIN(TestCliChatCrash)
#include "test_cli_chat_crash.moc"

// Streaming writes: the answer row exists (partial) before the first token,
// text is appended to that one row at most every flush interval, UTF-8 is
// never cut, finish() records status and stats, an abandoned writer marks its
// answer interrupted, and the next open marks answers of dead writers.
// Also the `history --json` output built on the same store.
#include <QProcess>

#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "ossdesk/storage/conversations.h"
#include "ossdesk/storage/database.h"
#include "ossdesk/storage/history.h"
#include "ossdesk/storage/messages.h"
#include "ossdesk/storage/streaming.h"
#include "storage_test_support.h"

using namespace ossdesk::storage;
using storage_test::RawDb;
using storage_test::ScratchDir;
using namespace std::chrono_literals;

namespace {

struct Chat {
  RowId conversation;
  RowId user;
};

Chat start_chat(Database& db, const std::string& question = "question") {
  const RowId c = create_conversation(db, {.title = "t", .settings = {}, .created_ms = 1000});
  NewMessage m;
  m.content = question;
  m.created_ms = 1000;
  return {c, append_message(db, c, m)};
}

// The pid of a process that has exited and been reaped.
qint64 dead_pid() {
  QProcess p;
  p.start("true", {});
  p.waitForStarted();
  const qint64 pid = p.processId();
  p.waitForFinished();
  return pid;
}

}  // namespace

class TestStorageStreaming : public QObject {
  Q_OBJECT

 private slots:
  void answer_row_is_committed_at_start() {
    ScratchDir dir("stream-start");
    Database db = Database::open(dir.file("h.db"));
    const Chat chat = start_chat(db);
    StreamingAnswerWriter w(db, chat.conversation, chat.user, {.model = "m", .backend = "cpu"});
    RawDb raw(dir.file("h.db"));
    const std::string id = std::to_string(w.message_id());
    QCOMPARE(raw.value("SELECT status FROM messages WHERE id = " + id), std::string("partial"));
    QCOMPARE(raw.value("SELECT content FROM messages WHERE id = " + id), std::string());
    QCOMPARE(raw.value("SELECT parent_id FROM messages WHERE id = " + id), std::to_string(chat.user));
    QCOMPARE(raw.value("SELECT current_leaf_id FROM conversations"), id);
    QCOMPARE(raw.number("SELECT writer_pid FROM messages WHERE id = " + id), QCoreApplication::applicationPid());
    w.finish(MessageStatus::Complete);
  }

  void flushes_append_to_one_row() {
    ScratchDir dir("stream-append");
    Database db = Database::open(dir.file("h.db"));
    const Chat chat = start_chat(db);
    // Record every write the writer makes, through a TEMP trigger on its own connection.
    db.exec("CREATE TEMP TABLE audit (what TEXT, id INTEGER);"
            "CREATE TEMP TRIGGER audit_mu AFTER UPDATE ON main.messages BEGIN INSERT INTO audit VALUES ('update m', NEW.id); END;"
            "CREATE TEMP TRIGGER audit_mi AFTER INSERT ON main.messages BEGIN INSERT INTO audit VALUES ('insert m', NEW.id); END;"
            "CREATE TEMP TRIGGER audit_md AFTER DELETE ON main.messages BEGIN INSERT INTO audit VALUES ('delete m', OLD.id); END;"
            "CREATE TEMP TRIGGER audit_cu AFTER UPDATE ON main.conversations BEGIN INSERT INTO audit VALUES ('update c', NEW.id); END;");
    StreamingAnswerWriter w(db, chat.conversation, chat.user, {}, {.flush_interval = 0ms});
    db.exec("DELETE FROM audit");
    RawDb raw(dir.file("h.db"));
    const std::string where = " FROM messages WHERE id = " + std::to_string(w.message_id());
    w.append_reasoning("Thinking ");
    w.append_content("Hello");
    QCOMPARE(raw.value("SELECT reasoning" + where), std::string("Thinking "));
    QCOMPARE(raw.value("SELECT content" + where), std::string("Hello"));
    w.append_content(", world");
    QCOMPARE(raw.value("SELECT content" + where), std::string("Hello, world"));
    w.add_tool_call({"c1", "functions.f", "{}"});
    QCOMPARE(w.flush_count(), std::size_t{4});
    RawDb audit_view(dir.file("h.db"));
    sqlite3_stmt* st = nullptr;
    QCOMPARE(sqlite3_prepare_v2(db.handle(), "SELECT what, id FROM temp.audit", -1, &st, nullptr), SQLITE_OK);
    int rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
      ++rows;
      QCOMPARE(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))), std::string("update m"));
      QCOMPARE(sqlite3_column_int64(st, 1), w.message_id());
    }
    sqlite3_finalize(st);
    QCOMPARE(rows, 4);  // one UPDATE of the answer row per flush, nothing else touched
    w.finish(MessageStatus::Complete);
    QVERIFY(get_message(db, w.message_id()).tool_calls == (std::vector<ToolCall>{{"c1", "functions.f", "{}"}}));
  }

  void flushes_at_most_every_interval() {
    ScratchDir dir("stream-throttle");
    Database db = Database::open(dir.file("h.db"));
    const Chat chat = start_chat(db);
    StreamingAnswerWriter w(db, chat.conversation, chat.user);  // default interval: 300 ms
    const auto start = std::chrono::steady_clock::now();
    std::string sent;
    for (int i = 0; i < 250; ++i) {
      const std::string delta = "tok" + std::to_string(i) + " ";
      sent += delta;
      w.append_content(delta);
      std::this_thread::sleep_for(4ms);
    }
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    QVERIFY2(w.flush_count() >= 1, "streamed for a second without saving");
    QVERIFY2(static_cast<long long>(w.flush_count()) <= elapsed.count() / 300 + 1,
             (std::to_string(w.flush_count()) + " flushes in " + std::to_string(elapsed.count()) + " ms").c_str());
    // What is in the row is a prefix of what was sent.
    const std::string saved = get_message(db, w.message_id()).content;
    QVERIFY(!saved.empty());
    QVERIFY(sent.rfind(saved, 0) == 0);
    w.finish(MessageStatus::Complete);
    QCOMPARE(get_message(db, w.message_id()).content, sent);
  }

  void utf8_is_never_cut() {
    ScratchDir dir("stream-utf8");
    Database db = Database::open(dir.file("h.db"));
    const Chat chat = start_chat(db);
    StreamingAnswerWriter w(db, chat.conversation, chat.user, {}, {.flush_interval = 0ms});
    const std::string check = "✓";  // 3 bytes
    w.append_content("ok " + check.substr(0, 1));
    QCOMPARE(get_message(db, w.message_id()).content, std::string("ok "));
    w.append_content(check.substr(1, 1));
    QCOMPARE(get_message(db, w.message_id()).content, std::string("ok "));
    w.append_content(check.substr(2) + "!");
    QCOMPARE(get_message(db, w.message_id()).content, "ok " + check + "!");
    w.append_content("\xF0\x9F");  // half an emoji at the very end is still saved by finish
    w.finish(MessageStatus::Cancelled);
    QCOMPARE(get_message(db, w.message_id()).content, "ok " + check + "!\xF0\x9F");
  }

  void finish_records_status_and_stats() {
    ScratchDir dir("stream-finish");
    Database db = Database::open(dir.file("h.db"));
    const Chat chat = start_chat(db);
    StreamingAnswerWriter w(db, chat.conversation, chat.user,
                            {.model = "gpt-oss-20b", .backend = "vulkan", .device = "lavapipe", .reasoning_effort = "low"});
    w.append_reasoning("plan");
    w.append_content("answer");
    w.finish(MessageStatus::Complete, {.device = "RTX 4090", .prompt_tokens = 12, .generated_tokens = 34,
                                       .ttft_ms = 56.5, .decode_tokens_per_s = 78.25, .thinking_ms = 910});
    const MessageRecord m = get_message(db, w.message_id());
    QVERIFY(m.status == MessageStatus::Complete);
    QVERIFY(!m.interrupted);
    QCOMPARE(m.reasoning, std::string("plan"));
    QCOMPARE(m.content, std::string("answer"));
    QVERIFY(m.stats == (MessageStats{.model = "gpt-oss-20b", .backend = "vulkan", .device = "RTX 4090",
                                     .reasoning_effort = "low", .prompt_tokens = 12, .generated_tokens = 34,
                                     .ttft_ms = 56.5, .decode_tokens_per_s = 78.25, .thinking_ms = 910}));
    QVERIFY(get_conversation(db, chat.conversation).updated_ms > 1000);
    RawDb raw(dir.file("h.db"));
    QCOMPARE(raw.value("SELECT writer_pid FROM messages WHERE id = " + std::to_string(m.id)), std::string("NULL"));

    EXPECT_STORAGE_ERROR(twice, w.finish(MessageStatus::Complete), StorageErrorKind::InvalidArgument);
    StreamingAnswerWriter e(db, chat.conversation, chat.user);
    EXPECT_STORAGE_ERROR(partial, e.finish(MessageStatus::Partial), StorageErrorKind::InvalidArgument);
    e.append_content("half");
    e.finish(MessageStatus::Error, {}, "out of memory on the device");
    const MessageRecord failed = get_message(db, e.message_id());
    QVERIFY(failed.status == MessageStatus::Error);
    QCOMPARE(failed.error, std::string("out of memory on the device"));
    QCOMPARE(failed.content, std::string("half"));
    QCOMPARE(siblings(db, e.message_id()).ids.size(), std::size_t{2});  // a regenerate kept the first answer
  }

  void abandoned_writer_marks_interrupted() {
    ScratchDir dir("stream-abandon");
    Database db = Database::open(dir.file("h.db"));
    const Chat chat = start_chat(db);
    RowId id = 0;
    {
      StreamingAnswerWriter w(db, chat.conversation, chat.user);  // 300 ms: nothing flushed yet
      id = w.message_id();
      w.append_content("unsaved words");
    }
    const MessageRecord m = get_message(db, id);
    QVERIFY(m.status == MessageStatus::Partial);
    QVERIFY(m.interrupted);
    QCOMPARE(m.content, std::string("unsaved words"));
  }

  void open_marks_answers_of_dead_writers() {
    ScratchDir dir("stream-dead");
    const auto path = dir.file("h.db");
    RowId dead_writer = 0, other_boot = 0, no_writer = 0, alive_writer = 0, own_writer = 0;
    QProcess sleeper;
    sleeper.start("sleep", {"30"});
    QVERIFY(sleeper.waitForStarted());
    {
      Database db = Database::open(path);
      const Chat chat = start_chat(db);
      NewMessage partial;
      partial.role = Role::Assistant;
      partial.status = MessageStatus::Partial;
      partial.content = "cut off";
      dead_writer = add_message(db, chat.conversation, chat.user, partial);
      other_boot = add_message(db, chat.conversation, chat.user, partial);
      no_writer = add_message(db, chat.conversation, chat.user, partial);
      alive_writer = add_message(db, chat.conversation, chat.user, partial);
      own_writer = add_message(db, chat.conversation, chat.user, partial);
      RawDb raw(path);
      std::ifstream boot_file("/proc/sys/kernel/random/boot_id");
      std::string boot_id;
      std::getline(boot_file, boot_id);
      auto set = [&](RowId id, long long pid, const std::string& b) {
        raw.exec("UPDATE messages SET writer_pid = " + std::to_string(pid) + ", writer_boot = " +
                 (b.empty() ? std::string("NULL") : "'" + b + "'") + " WHERE id = " + std::to_string(id));
      };
      set(dead_writer, dead_pid(), boot_id);
      set(other_boot, QCoreApplication::applicationPid(), "another-boot");
      set(alive_writer, sleeper.processId(), boot_id);
      set(own_writer, QCoreApplication::applicationPid(), boot_id);
    }
    Database db = Database::open(path);
    QCOMPARE(db.interrupted_on_open(), 3);
    QVERIFY(get_message(db, dead_writer).interrupted);
    QVERIFY(get_message(db, other_boot).interrupted);
    QVERIFY(get_message(db, no_writer).interrupted);
    QVERIFY(!get_message(db, alive_writer).interrupted);  // still streaming in another process
    QVERIFY(!get_message(db, own_writer).interrupted);    // a writer of this very process
    QCOMPARE(get_message(db, dead_writer).content, std::string("cut off"));
    QVERIFY(list_conversations(db)[0].has_interrupted);
    sleeper.kill();
    sleeper.waitForFinished();
    Database again = Database::open(path);
    QCOMPARE(again.interrupted_on_open(), 1);  // the sleeper is gone now
  }

  void deleted_under_the_writer() {
    ScratchDir dir("stream-deleted");
    Database db = Database::open(dir.file("h.db"));
    const Chat chat = start_chat(db);
    StreamingAnswerWriter w(db, chat.conversation, chat.user, {}, {.flush_interval = 0ms});
    w.append_content("a");
    delete_conversation(db, chat.conversation);
    EXPECT_STORAGE_ERROR(e, w.append_content("b"), StorageErrorKind::NotFound);
    QVERIFY(storage_test::contains(e.message, "was deleted while its answer was being written"));
  }

  void history_json_shapes() {
    ScratchDir dir("stream-history");
    Database db = Database::open(dir.file("h.db"));
    const Chat chat = start_chat(db, "How do zeppelins float?");
    RowId answer = 0;
    {
      StreamingAnswerWriter w(db, chat.conversation, chat.user, {.model = "tiny"});
      w.append_reasoning("buoyancy");
      w.append_content("Lifting gas.");
      w.finish(MessageStatus::Complete, {.generated_tokens = 3});
      answer = w.message_id();
    }
    create_conversation(db, {.title = "second", .settings = {}, .created_ms = 500});

    auto list = nlohmann::json::parse(history_json(db, {}));
    QCOMPARE(list["format"].get<std::string>(), std::string("ossdesk-history"));
    QCOMPARE(list["conversations"].size(), std::size_t{2});
    QCOMPARE(list["conversations"][0]["id"].get<RowId>(), chat.conversation);
    QCOMPARE(list["conversations"][0]["message_count"].get<int>(), 2);

    auto one = nlohmann::json::parse(history_json(db, {.conversation_id = chat.conversation}));
    const auto& conv = one["conversation"];
    QCOMPARE(conv["id"].get<RowId>(), chat.conversation);
    QCOMPARE(conv["thread"], (nlohmann::json{chat.user, answer}));
    QCOMPARE(conv["messages"][1]["id"].get<RowId>(), answer);
    QCOMPARE(conv["messages"][1]["parent_id"].get<RowId>(), chat.user);
    QCOMPARE(conv["messages"][1]["reasoning"].get<std::string>(), std::string("buoyancy"));
    QCOMPARE(conv["messages"][1]["status"].get<std::string>(), std::string("complete"));
    QCOMPARE(conv["messages"][1]["stats"]["generated_tokens"].get<int>(), 3);
    QCOMPARE(conv["messages"][1]["stats"]["model"].get<std::string>(), std::string("tiny"));

    auto found = nlohmann::json::parse(history_json(db, {.conversation_id = {}, .search = "zeppelin"}));
    QCOMPARE(found["query"].get<std::string>(), std::string("zeppelin"));
    QCOMPARE(found["hits"].size(), std::size_t{1});
    QCOMPARE(found["hits"][0]["message_id"].get<RowId>(), chat.user);
    QVERIFY(storage_test::contains(found["hits"][0]["snippet"].get<std::string>(), "[zeppelins]"));

    EXPECT_STORAGE_ERROR(e, history_json(db, {.conversation_id = 999}), StorageErrorKind::NotFound);
    EXPECT_STORAGE_ERROR(f, history_json(db, {.conversation_id = 999, .search = "x"}), StorageErrorKind::NotFound);
  }
};

QTEST_GUILESS_MAIN(TestStorageStreaming)
#include "test_storage_streaming.moc"

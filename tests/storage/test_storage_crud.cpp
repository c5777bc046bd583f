// Conversations, messages, settings and benchmark results: create, read,
// update, delete, and the errors for ids and values that do not exist.
#include "ossdesk/storage/benchmarks.h"
#include "ossdesk/storage/conversations.h"
#include "ossdesk/storage/database.h"
#include "ossdesk/storage/messages.h"
#include "ossdesk/storage/migrations.h"
#include "ossdesk/storage/settings.h"
#include "storage_test_support.h"

using namespace ossdesk::storage;
using storage_test::RawDb;
using storage_test::ScratchDir;

class TestStorageCrud : public QObject {
  Q_OBJECT

 private slots:
  void new_file_is_current_and_configured() {
    ScratchDir dir("crud-new");
    Database db = Database::open(dir.file("h.db"));
    QCOMPARE(db.schema_version(), latest_schema_version());
    QVERIFY(!db.recovery());
    RawDb raw(dir.file("h.db"));
    QCOMPARE(raw.value("PRAGMA journal_mode"), std::string("wal"));
    QCOMPARE(raw.number("PRAGMA application_id"), static_cast<long long>(kApplicationId));
    // Per-connection pragmas are checked on the library's own handle.
    sqlite3_stmt* st = nullptr;
    for (const char* pragma : {"PRAGMA foreign_keys", "PRAGMA secure_delete"}) {
      QCOMPARE(sqlite3_prepare_v2(db.handle(), pragma, -1, &st, nullptr), SQLITE_OK);
      QCOMPARE(sqlite3_step(st), SQLITE_ROW);
      QVERIFY2(sqlite3_column_int(st, 0) == 1, pragma);
      sqlite3_finalize(st);
    }
  }

  void conversation_create_read_update() {
    ScratchDir dir("crud-conv");
    Database db = Database::open(dir.file("h.db"));
    NewConversation nc;
    nc.title = "Trip to Lisbon";
    nc.settings.model = "/models/gpt-oss-20b.gguf";
    nc.settings.reasoning_effort = "high";
    nc.settings.system_prompt = "Be brief.";
    nc.settings.sampling.temperature = 0.7;
    nc.settings.sampling.top_k = 40;
    nc.settings.sampling.seed = -3;
    nc.created_ms = 1'700'000'000'000;
    const RowId id = create_conversation(db, nc);
    QVERIFY(id > 0);

    ConversationRecord c = get_conversation(db, id);
    QCOMPARE(c.id, id);
    QCOMPARE(c.title, nc.title);
    QCOMPARE(c.created_ms, nc.created_ms.value());
    QCOMPARE(c.updated_ms, nc.created_ms.value());
    QVERIFY(!c.pinned);
    QVERIFY(c.settings == nc.settings);
    QVERIFY(!c.settings.sampling.top_p);
    QVERIFY(!c.current_leaf_id);

    rename_conversation(db, id, "Lisbon, 3 days");
    set_conversation_pinned(db, id, true);
    ConversationSettings s = c.settings;
    s.reasoning_effort = "low";
    s.sampling = {};
    s.sampling.top_p = 0.9;
    update_conversation_settings(db, id, s);
    c = get_conversation(db, id);
    QCOMPARE(c.title, std::string("Lisbon, 3 days"));
    QVERIFY(c.pinned);
    QVERIFY(c.settings == s);

    EXPECT_STORAGE_ERROR(bad_effort, [&] {
      ConversationSettings wrong = s;
      wrong.reasoning_effort = "extreme";
      update_conversation_settings(db, id, wrong);
    }(), StorageErrorKind::InvalidArgument);
    QVERIFY(storage_test::contains(bad_effort.message, "extreme"));
    QVERIFY(storage_test::contains(bad_effort.message, dir.file("h.db").string()));
    QVERIFY(get_conversation(db, id).settings == s);  // unchanged
  }

  void missing_ids_are_not_found() {
    ScratchDir dir("crud-missing");
    Database db = Database::open(dir.file("h.db"));
    QVERIFY(!find_conversation(db, 42));
    EXPECT_STORAGE_ERROR(a, get_conversation(db, 42), StorageErrorKind::NotFound);
    QVERIFY(storage_test::contains(a.message, "no conversation 42"));
    EXPECT_STORAGE_ERROR(b, rename_conversation(db, 42, "x"), StorageErrorKind::NotFound);
    EXPECT_STORAGE_ERROR(c, delete_conversation(db, 42), StorageErrorKind::NotFound);
    EXPECT_STORAGE_ERROR(d, append_message(db, 42, NewMessage{}), StorageErrorKind::NotFound);
    EXPECT_STORAGE_ERROR(e, get_message(db, 7), StorageErrorKind::NotFound);
    QVERIFY(!find_message(db, 7));
  }

  void list_order_is_pinned_then_recent() {
    ScratchDir dir("crud-list");
    Database db = Database::open(dir.file("h.db"));
    const RowId a = create_conversation(db, {.title = "a", .settings = {}, .created_ms = 1000});
    const RowId b = create_conversation(db, {.title = "b", .settings = {}, .created_ms = 2000});
    const RowId c = create_conversation(db, {.title = "c", .settings = {}, .created_ms = 3000});
    NewMessage m;
    m.content = "bump";
    m.created_ms = 5000;
    append_message(db, a, m);  // a is now the most recently active
    set_conversation_pinned(db, b, true);
    const auto list = list_conversations(db);
    QCOMPARE(list.size(), std::size_t{3});
    QCOMPARE(list[0].conversation.id, b);
    QCOMPARE(list[1].conversation.id, a);
    QCOMPARE(list[2].conversation.id, c);
    QCOMPARE(list[1].message_count, std::int64_t{1});
    QCOMPARE(list[1].conversation.updated_ms, std::int64_t{5000});
  }

  void message_fields_round_trip() {
    ScratchDir dir("crud-msg");
    Database db = Database::open(dir.file("h.db"));
    const RowId conv = create_conversation(db, {.title = "t", .settings = {}, .created_ms = {}});
    NewMessage user;
    user.content = "What's the weather in Paris? ☀️";
    user.created_ms = 111;
    const RowId u = append_message(db, conv, user);

    NewMessage a;
    a.role = Role::Assistant;
    a.content = "";
    a.reasoning = "Need the weather tool.";
    a.tool_calls = {{"call_1", "functions.get_weather", R"({"city":"Paris"})"}, {"call_2", "functions.noop", ""}};
    a.status = MessageStatus::Error;
    a.error = "backend lost";
    a.stats = {.model = "gpt-oss-20b",
               .backend = "cuda",
               .device = "NVIDIA H100",
               .reasoning_effort = "medium",
               .prompt_tokens = 321,
               .generated_tokens = 17,
               .ttft_ms = 42.5,
               .decode_tokens_per_s = 187.25,
               .thinking_ms = 1234.0};
    a.created_ms = 222;
    const RowId am = append_message(db, conv, a);

    NewMessage tool;
    tool.role = Role::Tool;
    tool.tool_call_id = "call_1";
    tool.tool_name = "functions.get_weather";
    tool.content = R"({"temp_c": 21})";
    const RowId t = append_message(db, conv, tool);

    const MessageRecord r = get_message(db, am);
    QCOMPARE(r.id, am);
    QCOMPARE(r.conversation_id, conv);
    QVERIFY(r.parent_id == u);
    QVERIFY(r.role == Role::Assistant);
    QCOMPARE(r.reasoning, a.reasoning);
    QVERIFY(r.tool_calls == a.tool_calls);
    QVERIFY(r.status == MessageStatus::Error);
    QCOMPARE(r.error, a.error);
    QVERIFY(r.stats == a.stats);
    QCOMPARE(r.created_ms, std::int64_t{222});
    QVERIFY(!r.interrupted);

    const MessageRecord tr = get_message(db, t);
    QVERIFY(tr.role == Role::Tool);
    QCOMPARE(tr.tool_call_id, std::string("call_1"));
    QCOMPARE(tr.tool_name, std::string("functions.get_weather"));
    QVERIFY(tr.stats == MessageStats{});  // nothing recorded -> NULL columns -> empty again
    QCOMPARE(get_message(db, u).content, user.content);

    EXPECT_STORAGE_ERROR(bad, [&] {
      NewMessage wrong;
      wrong.stats.reasoning_effort = "max";
      append_message(db, conv, wrong);
    }(), StorageErrorKind::InvalidArgument);
    QCOMPARE(all_messages(db, conv).size(), std::size_t{3});
  }

  void committed_before_return() {
    // The user's message must be on disk (visible to another connection) as soon as append returns.
    ScratchDir dir("crud-commit");
    Database db = Database::open(dir.file("h.db"));
    const RowId conv = create_conversation(db, {.title = "t", .settings = {}, .created_ms = {}});
    NewMessage m;
    m.content = "remember me";
    const RowId id = append_message(db, conv, m);
    RawDb other(dir.file("h.db"));
    QCOMPARE(other.value("SELECT content FROM messages WHERE id = " + std::to_string(id)), std::string("remember me"));
    QCOMPARE(other.number("SELECT current_leaf_id FROM conversations"), static_cast<long long>(id));
  }

  void delete_conversation_removes_everything() {
    ScratchDir dir("crud-delete");
    Database db = Database::open(dir.file("h.db"));
    const RowId keep = create_conversation(db, {.title = "keep", .settings = {}, .created_ms = {}});
    const RowId drop = create_conversation(db, {.title = "drop", .settings = {}, .created_ms = {}});
    for (int i = 0; i < 5; ++i) {
      NewMessage m;
      m.content = "message " + std::to_string(i);
      append_message(db, keep, m);
      append_message(db, drop, m);
    }
    delete_conversation(db, drop);
    QVERIFY(!find_conversation(db, drop));
    RawDb raw(dir.file("h.db"));
    QCOMPARE(raw.number("SELECT count(*) FROM messages WHERE conversation_id = " + std::to_string(drop)), 0LL);
    QCOMPARE(raw.number("SELECT count(*) FROM messages"), 5LL);
    QCOMPARE(raw.column("PRAGMA foreign_key_check").size(), std::size_t{0});
    QCOMPARE(all_messages(db, keep).size(), std::size_t{5});
  }

  void one_bad_record_hides_nothing() {
    // A tool-call cell that is not JSON (hand edit, bit rot) must not make the conversation unreadable.
    ScratchDir dir("crud-bad-record");
    Database db = Database::open(dir.file("h.db"));
    const RowId conv = create_conversation(db, {.title = "t", .settings = {}, .created_ms = {}});
    NewMessage m;
    m.content = "one";
    const RowId first = append_message(db, conv, m);
    m.content = "two";
    append_message(db, conv, m);
    RawDb raw(dir.file("h.db"));
    QCOMPARE(raw.exec("UPDATE messages SET tool_calls = '{not json' WHERE id = " + std::to_string(first)), std::string());
    const auto thread = visible_thread(db, conv);
    QCOMPARE(thread.size(), std::size_t{2});
    QCOMPARE(thread[0].content, std::string("one"));
    QCOMPARE(thread[0].tool_calls.size(), std::size_t{1});
    QCOMPARE(thread[0].tool_calls[0].arguments, std::string("{not json"));  // kept, not dropped
    QCOMPARE(list_conversations(db).size(), std::size_t{1});
  }

  void settings_crud() {
    ScratchDir dir("crud-settings");
    Database db = Database::open(dir.file("h.db"));
    QVERIFY(!get_setting(db, "theme"));
    set_setting(db, "theme", "dark");
    set_setting(db, "font_size", "14");
    set_setting(db, "theme", "light");
    QCOMPARE(get_setting(db, "theme").value_or(""), std::string("light"));
    const auto all = all_settings(db);
    QCOMPARE(all.size(), std::size_t{2});
    QCOMPARE(all.at("font_size"), std::string("14"));
    QVERIFY(remove_setting(db, "theme"));
    QVERIFY(!remove_setting(db, "theme"));
    QVERIFY(!get_setting(db, "theme"));
  }

  void benchmark_results_crud() {
    ScratchDir dir("crud-bench");
    Database db = Database::open(dir.file("h.db"));
    BenchmarkResult r;
    r.created_ms = 1000;
    r.model = "20b";
    r.backend = "vulkan";
    r.device = "lavapipe";
    r.prompt_tokens = 512;
    r.generated_tokens = 128;
    r.prefill_tokens_per_s = 900.5;
    r.decode_tokens_per_s = 31.25;
    r.ttft_ms = 640;
    r.details_json = R"({"runs":3})";
    r.id = add_benchmark_result(db, r);
    BenchmarkResult other = r;
    other.model = "120b";
    other.created_ms = 2000;
    other.ttft_ms.reset();
    other.id = add_benchmark_result(db, other);
    BenchmarkResult newest = r;
    newest.created_ms = 3000;
    newest.id = add_benchmark_result(db, newest);

    const auto all = list_benchmark_results(db);
    QCOMPARE(all.size(), std::size_t{3});
    QVERIFY(all[0] == newest);
    QVERIFY(all[1] == other);
    QVERIFY(all[2] == r);
    const auto only20 = list_benchmark_results(db, "20b", 1);
    QCOMPARE(only20.size(), std::size_t{1});
    QVERIFY(only20[0] == newest);
    QVERIFY(delete_benchmark_result(db, r.id));
    QVERIFY(!delete_benchmark_result(db, r.id));
    QCOMPARE(list_benchmark_results(db, "20b").size(), std::size_t{1});
  }

  void derive_title_cases() {
    QCOMPARE(derive_title("  \n\n  Hello   world \t again\nsecond line"), std::string("Hello world again"));
    QCOMPARE(derive_title(""), std::string());
    const std::string long_text = "Explain how the mixture of experts router in gpt-oss picks four experts per token";
    const std::string t = derive_title(long_text, 40);
    QVERIFY2(t.size() <= 40 + std::string("…").size(), t.c_str());
    QVERIFY(t.ends_with("…"));
    QVERIFY(long_text.rfind(t.substr(0, t.size() - std::string("…").size()), 0) == 0);
    QVERIFY(!storage_test::contains(t, " …"));  // cut at a word, no dangling space
    // Never cuts inside a multi-byte character.
    const std::string emoji(30, 'x');
    const std::string title = derive_title(emoji + "😀😀😀😀", 32);
    QCOMPARE(title, emoji + "😀😀…");
  }
};

QTEST_GUILESS_MAIN(TestStorageCrud)
#include "test_storage_crud.moc"

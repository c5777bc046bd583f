// Export and import: JSON is lossless (export -> import -> export is
// byte-identical, branches, stats, tool calls and odd bytes included) and
// all-or-nothing on bad input; Markdown is readable and restores the visible thread.
#include <nlohmann/json.hpp>

#include "ossdesk/storage/conversations.h"
#include "ossdesk/storage/database.h"
#include "ossdesk/storage/export.h"
#include "ossdesk/storage/messages.h"
#include "ossdesk/storage/streaming.h"
#include "storage_test_support.h"

using namespace ossdesk::storage;
using storage_test::RawDb;
using storage_test::ScratchDir;

namespace {

NewMessage msg(Role role, const std::string& text, std::int64_t at) {
  NewMessage m;
  m.role = role;
  m.content = text;
  m.created_ms = at;
  return m;
}

// Two conversations with everything the schema can hold.
void fill(Database& db) {
  NewConversation nc;
  nc.title = "Ünïcödé title — with \"quotes\" and <tags> -->";
  nc.created_ms = 1'700'000'000'123;
  nc.settings.model = "/models/gpt-oss-20b.gguf";
  nc.settings.reasoning_effort = "high";
  nc.settings.system_prompt = "Line one\nLine two\twith tab";
  nc.settings.sampling = {.temperature = 0.1, .top_p = 0.95, .top_k = 40, .min_p = 1e-7, .max_tokens = 4096, .seed = -1};
  const RowId c = create_conversation(db, nc);
  set_conversation_pinned(db, c, true);

  const RowId u1 = append_message(db, c, msg(Role::User, "Hello 👋\n\n<!-- ossdesk:end -->\n\\<!-- ossdesk:content -->\nbye", nc.created_ms.value() + 1));
  NewMessage a = msg(Role::Assistant, "", nc.created_ms.value() + 2);
  a.reasoning = "Let me think.\n\n</details>\nstill thinking";
  a.tool_calls = {{"call_1", "functions.get_weather", R"({"city":"Paris","note":"-->"})"}};
  a.stats = {.model = "gpt-oss-20b", .backend = "cuda", .device = "H100", .reasoning_effort = "high",
             .prompt_tokens = 100, .generated_tokens = 12, .ttft_ms = 12.345678901234567,
             .decode_tokens_per_s = 187.0, .thinking_ms = 0.1};
  const RowId a1 = append_message(db, c, a);
  NewMessage tool = msg(Role::Tool, R"({"temp_c": 21.5})", nc.created_ms.value() + 3);
  tool.tool_call_id = "call_1";
  tool.tool_name = "functions.get_weather";
  append_message(db, c, tool);
  NewMessage answer = msg(Role::Assistant, "It is 21.5 °C.", nc.created_ms.value() + 4);
  answer.status = MessageStatus::Cancelled;
  append_message(db, c, answer);
  // A regenerated alternative with an error, and one with bytes that are not UTF-8.
  NewMessage failed = msg(Role::Assistant, "partial words", nc.created_ms.value() + 5);
  failed.status = MessageStatus::Error;
  failed.error = "device lost";
  add_message(db, c, u1, failed);
  NewMessage binary = msg(Role::Assistant, std::string("cut \xE2\x82 and \xFF bytes"), nc.created_ms.value() + 6);
  binary.status = MessageStatus::Partial;
  add_message(db, c, u1, binary);
  select_branch(db, a1);

  const RowId empty = create_conversation(db, {.title = "", .settings = {}, .created_ms = 5});
  (void)empty;
  const RowId third = create_conversation(db, {.title = "third", .settings = {}, .created_ms = 6});
  append_message(db, third, msg(Role::System, "", 7));
}

std::string import_error(Database& db, const std::string& json) {
  const auto caught = storage_test::catch_storage_error([&] { import_json(db, json); });
  if (!caught.thrown) return "(no error)";
  if (caught.kind != StorageErrorKind::BadImport) return "(wrong kind) " + caught.message;
  return caught.message;
}

}  // namespace

class TestStorageExport : public QObject {
  Q_OBJECT

 private slots:
  void json_round_trip_is_byte_identical() {
    ScratchDir dir("export-roundtrip");
    Database a = Database::open(dir.file("a.db"));
    fill(a);
    const std::string first = export_json(a);
    QVERIFY(nlohmann::json::accept(first));

    Database b = Database::open(dir.file("b.db"));
    const auto ids = import_json(b, first);
    QCOMPARE(ids.size(), std::size_t{3});
    const std::string second = export_json(b);
    QCOMPARE(second, first);

    // Into a database that already has conversations: new ids, same content.
    const auto again = import_json(a, first);
    QCOMPARE(again.size(), std::size_t{3});
    QVERIFY(again[0] > ids.back());
    QCOMPARE(export_json(a, again[0]), export_json(b, ids[0]));
    QCOMPARE(export_json(a, again[2]), export_json(b, ids[2]));

    // The imported rows equal the originals field by field (ids aside).
    const auto original = all_messages(a, 1);
    const auto copy = all_messages(b, ids[0]);
    QCOMPARE(copy.size(), original.size());
    for (std::size_t i = 0; i < copy.size(); ++i) {
      MessageRecord x = original[i], y = copy[i];
      QVERIFY(x.parent_id.has_value() == y.parent_id.has_value());
      x.id = y.id = 0;
      x.conversation_id = y.conversation_id = 0;
      x.parent_id = y.parent_id = std::nullopt;
      QVERIFY2(x == y, ("message " + std::to_string(i)).c_str());
    }
    ConversationRecord ca = get_conversation(a, 1), cb = get_conversation(b, ids[0]);
    QCOMPARE(texts_of(visible_thread(a, 1)), texts_of(visible_thread(b, ids[0])));
    ca.id = cb.id = 0;
    ca.current_leaf_id = cb.current_leaf_id = std::nullopt;
    QVERIFY(ca == cb);
  }

  void json_is_readable_and_lossless_for_bad_bytes() {
    ScratchDir dir("export-bytes");
    Database db = Database::open(dir.file("a.db"));
    fill(db);
    const auto doc = nlohmann::json::parse(export_json(db, 1));
    QCOMPARE(doc["format"].get<std::string>(), std::string("ossdesk-export"));
    const auto& messages = doc["conversations"][0]["messages"];
    QCOMPARE(messages.size(), std::size_t{6});
    QCOMPARE(messages[5]["content"]["base64"].get<std::string>(), std::string("Y3V0IOKCIGFuZCD/IGJ5dGVz"));
    QCOMPARE(messages[4]["parent"].get<int>(), 1);  // local numbering, not database ids
    QCOMPARE(doc["conversations"][0]["current_leaf"].get<int>(), 4);
    EXPECT_STORAGE_ERROR(e, export_json(db, 99), StorageErrorKind::NotFound);
  }

  void bad_imports_change_nothing() {
    ScratchDir dir("export-bad");
    Database db = Database::open(dir.file("a.db"));
    fill(db);
    const std::string good = export_json(db);
    Database target = Database::open(dir.file("b.db"));

    QVERIFY(storage_test::contains(import_error(target, "{not json"), "not valid JSON"));
    QVERIFY(storage_test::contains(import_error(target, R"({"format":"other","version":1,"conversations":[]})"),
                                   "not an ossdesk export"));
    QVERIFY(storage_test::contains(import_error(target, R"({"format":"ossdesk-export","version":99,"conversations":[]})"),
                                   "newer"));
    // A million nested arrays where a string belongs: refused by type, never
    // printed or copied (both recurse per level and would overflow the stack).
    const std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
    QVERIFY(storage_test::contains(
        import_error(target, R"({"format":"ossdesk-export","version":1,"conversations":[{"title":)" + deep + "}]}"),
        "conversations[0].title"));

    // A broken field in the last conversation: the earlier ones must not be half-imported.
    auto doc = nlohmann::ordered_json::parse(good);
    doc["conversations"][2]["messages"][0]["role"] = "wizard";
    std::string message = import_error(target, doc.dump());
    QVERIFY2(storage_test::contains(message, "conversations[2].messages[0].role: unknown role 'wizard'"), message.c_str());
    QVERIFY(storage_test::contains(message, "nothing was imported"));
    QVERIFY(storage_test::contains(message, dir.file("b.db").string()));

    doc = nlohmann::ordered_json::parse(good);
    doc["conversations"][0]["messages"][1]["parent"] = 9;
    message = import_error(target, doc.dump());
    QVERIFY2(storage_test::contains(message, "conversations[0].messages[1].parent"), message.c_str());

    doc = nlohmann::ordered_json::parse(good);
    doc["conversations"][0]["messages"][1]["stats"]["prompt_tokens"] = "many";
    message = import_error(target, doc.dump());
    QVERIFY2(storage_test::contains(message, "stats.prompt_tokens: expected an integer"), message.c_str());

    doc = nlohmann::ordered_json::parse(good);
    doc["conversations"][0]["current_leaf"] = 77;
    QVERIFY(storage_test::contains(import_error(target, doc.dump()), "current_leaf"));

    RawDb raw(dir.file("b.db"));
    QCOMPARE(raw.number("SELECT count(*) FROM conversations"), 0LL);
    QCOMPARE(raw.number("SELECT count(*) FROM messages"), 0LL);
  }

  void markdown_is_readable() {
    ScratchDir dir("export-md");
    Database db = Database::open(dir.file("a.db"));
    fill(db);
    const std::string md = export_markdown(db, 1);
    QVERIFY(md.starts_with("# Ünïcödé title"));
    QVERIFY(storage_test::contains(md, "### User\n"));
    QVERIFY(storage_test::contains(md, "### Assistant · version 1 of 3\n"));
    QVERIFY(storage_test::contains(md, "<summary>Reasoning</summary>"));
    QVERIFY(storage_test::contains(md, "### Tool · functions.get_weather"));
    QVERIFY(storage_test::contains(md, "### Assistant (stopped)"));
    QVERIFY(storage_test::contains(md, "**Tool call** `functions.get_weather`"));
    QVERIFY(storage_test::contains(md, "> **System prompt:** Line one\n> Line two"));
    QVERIFY(storage_test::contains(md, "Model: /models/gpt-oss-20b.gguf · Reasoning: high · Created: 2023-11-14"));
    QVERIFY(!storage_test::contains(md, "partial words"));  // only the visible thread
    // Comment payloads never contain '>' so a value cannot close the comment early.
    QVERIFY(storage_test::contains(md, "\\u003ctags\\u003e --\\u003e"));
    QVERIFY(storage_test::contains(md, "\n\\<!-- ossdesk:end -->\n"));  // escaped text line
  }

  void markdown_round_trip_restores_the_thread() {
    ScratchDir dir("export-md-rt");
    Database a = Database::open(dir.file("a.db"));
    fill(a);
    const std::string md = export_markdown(a);
    Database b = Database::open(dir.file("b.db"));
    const auto ids = import_markdown(b, md);
    QCOMPARE(ids.size(), std::size_t{3});
    // Only the visible thread travels, so the "version 1 of 3" switcher note is the one difference.
    std::string expected = md;
    const std::string note = " · version 1 of 3";
    QVERIFY(storage_test::contains(expected, note));
    expected.erase(expected.find(note), note.size());
    QCOMPARE(export_markdown(b), expected);

    const auto before = visible_thread(a, 1);
    const auto after = visible_thread(b, ids[0]);
    QCOMPARE(after.size(), before.size());
    for (std::size_t i = 0; i < after.size(); ++i) {
      QCOMPARE(after[i].content, before[i].content);
      QCOMPARE(after[i].reasoning, before[i].reasoning);
      QVERIFY(after[i].role == before[i].role);
      QVERIFY(after[i].status == before[i].status);
      QVERIFY(after[i].tool_calls == before[i].tool_calls);
      QVERIFY(after[i].stats == before[i].stats);
    }
    QCOMPARE(get_conversation(b, ids[0]).title, get_conversation(a, 1).title);
    QVERIFY(get_conversation(b, ids[0]).settings == get_conversation(a, 1).settings);

    EXPECT_STORAGE_ERROR(e, import_markdown(b, "# Just some notes\n\nNo markers here.\n"), StorageErrorKind::BadImport);
    QVERIFY(storage_test::contains(e.message, "no ossdesk conversation markers"));
    EXPECT_STORAGE_ERROR(f, import_markdown(b, "<!-- ossdesk:conversation {broken -->\n"), StorageErrorKind::BadImport);
    QCOMPARE(list_conversations(b).size(), std::size_t{3});
  }

 private:
  static std::vector<std::string> texts_of(const std::vector<MessageRecord>& thread) {
    std::vector<std::string> out;
    for (const auto& m : thread) out.push_back(m.content);
    return out;
  }
};

QTEST_GUILESS_MAIN(TestStorageExport)
#include "test_storage_export.moc"

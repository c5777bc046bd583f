// Full-text search: titles and messages, prefix/case/accent matching, AND of
// words, per-conversation filter, hostile input, the index following edits,
// and secure deletion (a deleted chat's words are gone from the files).
#include "ossdesk/storage/conversations.h"
#include "ossdesk/storage/database.h"
#include "ossdesk/storage/messages.h"
#include "ossdesk/storage/search.h"
#include "ossdesk/storage/streaming.h"
#include "storage_test_support.h"

using namespace ossdesk::storage;
using storage_test::RawDb;
using storage_test::ScratchDir;

namespace {

NewMessage user(const std::string& text) {
  NewMessage m;
  m.content = text;
  return m;
}

std::string fts_integrity(const std::filesystem::path& db) {
  RawDb raw(db);
  std::string e = raw.exec("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')");
  if (e.empty()) e = raw.exec("INSERT INTO conversations_fts(conversations_fts) VALUES ('integrity-check')");
  return e;
}

}  // namespace

class TestStorageSearch : public QObject {
  Q_OBJECT

 private slots:
  void finds_titles_and_messages() {
    ScratchDir dir("search-basic");
    Database db = Database::open(dir.file("h.db"));
    const RowId trip = create_conversation(db, {.title = "Trip to Lisbon", .settings = {}, .created_ms = {}});
    const RowId code = create_conversation(db, {.title = "Rust lifetimes", .settings = {}, .created_ms = {}});
    const RowId m1 = append_message(db, trip, user("Where should I eat pastéis de nata near the Café Brasileira?"));
    append_message(db, code, user("Why does the borrow checker reject this closure?"));
    append_message(db, code, user("The café example compiles now."));

    auto hits = search(db, "lisbon");
    QCOMPARE(hits.size(), std::size_t{1});
    QCOMPARE(hits[0].conversation_id, trip);
    QVERIFY(!hits[0].message_id);  // a title hit
    QCOMPARE(hits[0].snippet, std::string("Trip to [Lisbon]"));

    hits = search(db, "pasteis");  // accents do not matter
    QCOMPARE(hits.size(), std::size_t{1});
    QVERIFY(hits[0].message_id == m1);
    QCOMPARE(hits[0].title, std::string("Trip to Lisbon"));
    QVERIFY2(storage_test::contains(hits[0].snippet, "[pastéis]"), hits[0].snippet.c_str());

    QCOMPARE(search(db, "CAFE").size(), std::size_t{2});       // case and accents
    QCOMPARE(search(db, "bor").size(), std::size_t{1});        // word prefix
    QCOMPARE(search(db, "cafe nata").size(), std::size_t{1});  // every word must match
    QCOMPARE(search(db, "cafe", {.conversation_id = code}).size(), std::size_t{1});
    QCOMPARE(search(db, "nothing-like-this").size(), std::size_t{0});
    QCOMPARE(search(db, "   ").size(), std::size_t{0});
    QCOMPARE(search(db, "cafe", {.conversation_id = {}, .limit = 1}).size(), std::size_t{1});

    SearchOptions html;
    html.highlight_open = "<b>";
    html.highlight_close = "</b>";
    QVERIFY(storage_test::contains(search(db, "borrow", html)[0].snippet, "<b>borrow</b>"));
  }

  void hostile_queries_are_plain_text() {
    ScratchDir dir("search-hostile");
    Database db = Database::open(dir.file("h.db"));
    const RowId c = create_conversation(db, {.title = "t", .settings = {}, .created_ms = {}});
    append_message(db, c, user("say \"hello\" AND goodbye (really) NEAR the end*"));
    for (const char* q : {"\"", "\"hello", "AND", "OR NOT", "(", "NEAR(a b)", "*", "col:value", "^start", "-", "'"}) {
      const auto caught = storage_test::catch_storage_error([&] { search(db, q); });
      QVERIFY2(!caught.thrown, (std::string(q) + ": " + caught.message).c_str());
    }
    QCOMPARE(search(db, "\"hello\"").size(), std::size_t{1});
    QCOMPARE(search(db, "AND").size(), std::size_t{1});  // the word, not the operator
    QCOMPARE(fts_query_from_user_text("a \"b"), std::string("\"a\"* \"\"\"b\"*"));
  }

  void index_follows_edits_and_streaming() {
    ScratchDir dir("search-sync");
    Database db = Database::open(dir.file("h.db"));
    const RowId c = create_conversation(db, {.title = "before", .settings = {}, .created_ms = {}});
    const RowId u = append_message(db, c, user("question"));
    rename_conversation(db, c, "after");
    QCOMPARE(search(db, "before").size(), std::size_t{0});
    QCOMPARE(search(db, "after").size(), std::size_t{1});
    {
      StreamingAnswerWriter w(db, c, u, {}, {.flush_interval = std::chrono::milliseconds(0)});
      w.append_content("the answer mentions ");
      QCOMPARE(search(db, "mentions").size(), std::size_t{1});  // partial answers are searchable
      w.append_content("zeppelins");
      w.finish(MessageStatus::Complete);
    }
    QCOMPARE(search(db, "zeppelins").size(), std::size_t{1});
    QCOMPARE(search(db, "mentions zeppelins").size(), std::size_t{1});
    delete_message_subtree(db, u);
    QCOMPARE(search(db, "zeppelins").size(), std::size_t{0});
    QCOMPARE(fts_integrity(dir.file("h.db")), std::string());
  }

  void deleted_chat_is_gone_from_the_files() {
    ScratchDir dir("search-secure");
    const auto path = dir.file("h.db");
    const std::string secret = "qzxvbnmsecretword";  // one FTS token
    {
      Database db = Database::open(path);
      const RowId keep = create_conversation(db, {.title = "keep", .settings = {}, .created_ms = {}});
      for (int i = 0; i < 50; ++i) append_message(db, keep, user("ordinary filler text number " + std::to_string(i)));
      const RowId c = create_conversation(db, {.title = "title " + secret, .settings = {}, .created_ms = {}});
      for (int i = 0; i < 20; ++i) append_message(db, c, user("the " + secret + " is here, line " + std::to_string(i)));
      db.checkpoint_truncate();
      // Control: the word really is in the file before the delete, so the check below can fail.
      QVERIFY(storage_test::contains(storage_test::read_bytes(path), secret));
      delete_conversation(db, c);
      QCOMPARE(search(db, secret).size(), std::size_t{0});
      QCOMPARE(search(db, "filler").size(), std::size_t{50});
      // While open: the main file and the WAL must both be clean.
      QVERIFY(!storage_test::contains(storage_test::read_bytes(path), secret));
      QVERIFY(!storage_test::contains(storage_test::read_bytes(path.string() + "-wal"), secret));
    }
    QVERIFY(!storage_test::contains(storage_test::read_bytes(path), secret));
    QCOMPARE(fts_integrity(path), std::string());
  }
};

QTEST_GUILESS_MAIN(TestStorageSearch)
#include "test_storage_search.moc"

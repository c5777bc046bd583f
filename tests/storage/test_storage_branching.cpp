// Branching: regenerate and edit-and-resend keep alternatives; the current
// leaf chooses the visible thread; siblings give the ‹ 1/2 › switcher;
// deleting a branch moves the view; long threads stay deletable.
#include "ossdesk/storage/conversations.h"
#include "ossdesk/storage/database.h"
#include "ossdesk/storage/messages.h"
#include "storage_test_support.h"

using namespace ossdesk::storage;
using storage_test::RawDb;
using storage_test::ScratchDir;

namespace {

NewMessage msg(Role role, const std::string& text) {
  NewMessage m;
  m.role = role;
  m.content = text;
  return m;
}

std::vector<std::string> texts(const std::vector<MessageRecord>& thread) {
  std::vector<std::string> out;
  for (const auto& m : thread) out.push_back(m.content);
  return out;
}

}  // namespace

class TestStorageBranching : public QObject {
  Q_OBJECT

 private slots:
  void linear_thread() {
    ScratchDir dir("branch-linear");
    Database db = Database::open(dir.file("h.db"));
    const RowId c = create_conversation(db, {});
    QVERIFY(visible_thread(db, c).empty());
    const RowId u1 = append_message(db, c, msg(Role::User, "q1"));
    const RowId a1 = append_message(db, c, msg(Role::Assistant, "a1"));
    append_message(db, c, msg(Role::User, "q2"));
    QCOMPARE(texts(visible_thread(db, c)), (std::vector<std::string>{"q1", "a1", "q2"}));
    QVERIFY(!get_message(db, u1).parent_id);
    QVERIFY(get_message(db, a1).parent_id == u1);
    const Siblings s = siblings(db, a1);
    QCOMPARE(s.ids, std::vector<RowId>{a1});
    QCOMPARE(s.index, std::size_t{0});
  }

  void regenerate_keeps_the_old_answer() {
    ScratchDir dir("branch-regen");
    Database db = Database::open(dir.file("h.db"));
    const RowId c = create_conversation(db, {});
    const RowId u1 = append_message(db, c, msg(Role::User, "q1"));
    const RowId a1 = append_message(db, c, msg(Role::Assistant, "first answer"));
    append_message(db, c, msg(Role::User, "follow-up"));
    append_message(db, c, msg(Role::Assistant, "follow-up answer"));

    // Regenerate a1: a new assistant message under the same user message.
    const RowId a2 = add_message(db, c, u1, msg(Role::Assistant, "second answer"));
    QCOMPARE(texts(visible_thread(db, c)), (std::vector<std::string>{"q1", "second answer"}));
    Siblings s = siblings(db, a2);
    QCOMPARE(s.ids, (std::vector<RowId>{a1, a2}));
    QCOMPARE(s.index, std::size_t{1});
    QCOMPARE(siblings(db, a1).index, std::size_t{0});

    // ‹ back to the first answer: its whole continuation comes back.
    select_branch(db, a1);
    QCOMPARE(texts(visible_thread(db, c)),
             (std::vector<std::string>{"q1", "first answer", "follow-up", "follow-up answer"}));
    QCOMPARE(all_messages(db, c).size(), std::size_t{5});  // nothing was deleted
  }

  void edit_and_resend_makes_a_sibling() {
    ScratchDir dir("branch-edit");
    Database db = Database::open(dir.file("h.db"));
    const RowId c = create_conversation(db, {});
    append_message(db, c, msg(Role::User, "q1"));
    append_message(db, c, msg(Role::Assistant, "a1"));
    const RowId q2 = append_message(db, c, msg(Role::User, "q2 with a typo"));
    append_message(db, c, msg(Role::Assistant, "a2"));

    const MessageRecord original = get_message(db, q2);
    const RowId edited = add_message(db, c, original.parent_id, msg(Role::User, "q2 fixed"));
    append_message(db, c, msg(Role::Assistant, "a2 for the fix"));
    QCOMPARE(texts(visible_thread(db, c)), (std::vector<std::string>{"q1", "a1", "q2 fixed", "a2 for the fix"}));
    QCOMPARE(siblings(db, edited).ids, (std::vector<RowId>{q2, edited}));

    // Editing the very first message makes a second root.
    const RowId root2 = add_message(db, c, std::nullopt, msg(Role::User, "start over"));
    QCOMPARE(texts(visible_thread(db, c)), std::vector<std::string>{"start over"});
    QCOMPARE(siblings(db, root2).ids.size(), std::size_t{2});
    const RowId leaf = select_branch(db, siblings(db, root2).ids[0]);
    QCOMPARE(get_message(db, leaf).content, std::string("a2 for the fix"));  // newest branch below the old root
  }

  void delete_branch_moves_the_view() {
    ScratchDir dir("branch-delete");
    Database db = Database::open(dir.file("h.db"));
    const RowId c = create_conversation(db, {});
    const RowId u1 = append_message(db, c, msg(Role::User, "q1"));
    const RowId a1 = append_message(db, c, msg(Role::Assistant, "a1"));
    append_message(db, c, msg(Role::User, "q2"));
    const RowId a2 = add_message(db, c, u1, msg(Role::Assistant, "a1 regenerated"));
    select_branch(db, a1);
    delete_message_subtree(db, a1);  // the visible branch goes; the view moves to the other answer
    QCOMPARE(texts(visible_thread(db, c)), (std::vector<std::string>{"q1", "a1 regenerated"}));
    QCOMPARE(all_messages(db, c).size(), std::size_t{2});
    QVERIFY(get_conversation(db, c).current_leaf_id == a2);

    delete_message_subtree(db, u1);  // everything
    QVERIFY(visible_thread(db, c).empty());
    QVERIFY(!get_conversation(db, c).current_leaf_id);
  }

  void parent_must_be_in_the_same_conversation() {
    ScratchDir dir("branch-cross");
    Database db = Database::open(dir.file("h.db"));
    const RowId c1 = create_conversation(db, {});
    const RowId c2 = create_conversation(db, {});
    const RowId m1 = append_message(db, c1, msg(Role::User, "in c1"));
    EXPECT_STORAGE_ERROR(e, add_message(db, c2, m1, msg(Role::User, "x")), StorageErrorKind::InvalidArgument);
    QVERIFY(storage_test::contains(e.message, "not part of conversation"));
    // The schema enforces it too, for writers that bypass the library.
    RawDb raw(dir.file("h.db"));
    const std::string err = raw.exec("INSERT INTO messages (conversation_id, parent_id, role, created_ms, updated_ms) VALUES (" +
                                     std::to_string(c2) + ", " + std::to_string(m1) + ", 'user', 0, 0)");
    QVERIFY2(storage_test::contains(err, "another conversation"), err.c_str());
    QVERIFY(all_messages(db, c2).empty());
  }

  void long_thread_reads_and_deletes() {
    // Deep chains must not hit SQLite's trigger recursion limit (1000) on delete.
    ScratchDir dir("branch-long");
    Database db = Database::open(dir.file("h.db"));
    const RowId c = create_conversation(db, {});
    const RowId other = create_conversation(db, {});
    append_message(db, other, msg(Role::User, "survivor"));
    db.exec("BEGIN");
    for (int i = 0; i < 2500; ++i) append_message(db, c, msg(i % 2 ? Role::Assistant : Role::User, std::to_string(i)));
    db.exec("COMMIT");
    const auto thread = visible_thread(db, c);
    QCOMPARE(thread.size(), std::size_t{2500});
    QCOMPARE(thread.front().content, std::string("0"));
    QCOMPARE(thread.back().content, std::string("2499"));
    delete_message_subtree(db, thread[1200].id);
    QCOMPARE(visible_thread(db, c).size(), std::size_t{1200});
    delete_conversation(db, c);
    RawDb raw(dir.file("h.db"));
    QCOMPARE(raw.number("SELECT count(*) FROM messages"), 1LL);
    QCOMPARE(raw.value("PRAGMA integrity_check"), std::string("ok"));
  }
};

QTEST_GUILESS_MAIN(TestStorageBranching)
#include "test_storage_branching.moc"

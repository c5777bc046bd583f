// The app's controllers and models without a window: a scripted engine
// (FakeChatEngine: analysis, then final) and the real engine on a tiny
// synthetic model, over a real history file. Every model runs under
// QAbstractItemModelTester while it changes.
#include <QAbstractItemModelTester>
#include <QtTest>

#include "app_fixture.h"
#include "conversation_list_model.h"
#include "fake_chat_engine.h"
#include "harmony/renderer.h"
#include "ossdesk/storage/conversations.h"
#include "ossdesk/storage/messages.h"
#include "tiny_model.h"

using namespace ossdesk;
using gui::MessageListModel;

namespace {

QString joined(const std::vector<std::string>& pieces) {
  std::string s;
  for (const auto& p : pieces) s += p;
  return QString::fromStdString(s);
}

QVariant last_row(MessageListModel* m, int role) { return m->data(m->index(m->rowCount() - 1), role); }

}  // namespace

class TestChatController : public QObject {
  Q_OBJECT

 private slots:
  void send_streams_reasoning_then_answer_and_saves_it() {
    test::FakeChatEngine engine;
    test::AppUnderTest app("app-send", test::factory_for(&engine));
    QAbstractItemModelTester t1(app.chat->messages(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t2(app.chat->conversations(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(!app.chat->canSend());
    QCOMPARE(app.chat->sendBlockedReason(), QString("Open a model to start chatting"));
    QVERIFY(app.load());
    QVERIFY(app.chat->canSend());

    QVERIFY(app.chat->send("  What is MXFP4?\nAnd why?  "));
    QVERIFY(app.chat->busy());
    QVERIFY(!app.chat->canSend());
    QVERIFY(app.wait_idle());
    auto* m = app.chat->messages();
    QCOMPARE(m->rowCount(), 2);
    QCOMPARE(m->data(m->index(0), MessageListModel::ContentRole).toString(), QString("What is MXFP4?\nAnd why?"));
    QCOMPARE(last_row(m, MessageListModel::ReasoningRole).toString(), joined(test::FakeScript{}.analysis));
    QCOMPARE(last_row(m, MessageListModel::ContentRole).toString(), joined(test::FakeScript{}.final));
    QCOMPARE(last_row(m, MessageListModel::StatusRole).toString(), QString("complete"));
    QCOMPARE(last_row(m, MessageListModel::StreamingRole).toBool(), false);
    QCOMPARE(last_row(m, MessageListModel::StatsLineRole).toString(),
             QString("123.4 tok/s · TTFT 0.01 s · 8 tokens · CPU · Scripted test engine"));

    // The title comes from the first user message, never from the reasoning.
    QCOMPARE(app.chat->currentTitle(), QString("What is MXFP4?"));
    QCOMPARE(app.chat->conversations()->rowCount(), 1);
    // What is on disk is what is on screen.
    const auto thread = storage::visible_thread(*app.db, app.chat->currentConversationId());
    QCOMPARE(thread.size(), std::size_t{2});
    QCOMPARE(QString::fromStdString(thread[1].content), joined(test::FakeScript{}.final));
    QCOMPARE(QString::fromStdString(thread[1].reasoning), joined(test::FakeScript{}.analysis));
    QCOMPARE(thread[1].stats.backend, std::string("cpu"));
    QVERIFY(thread[1].stats.thinking_ms.has_value());
  }

  // 400 pieces as fast as the engine can push them reach the view in far
  // fewer model updates: the inbox is drained once per frame.
  void a_fast_stream_is_batched_per_frame() {
    test::FakeScript script;
    script.analysis.assign(100, "a");
    script.final.assign(300, "b ");
    script.delay = std::chrono::milliseconds(0);
    test::FakeChatEngine engine(script);
    test::AppUnderTest app("app-batch", test::factory_for(&engine));
    QVERIFY(app.load());
    QSignalSpy changes(app.chat->messages(), &QAbstractItemModel::dataChanged);
    QVERIFY(app.chat->send("go"));
    QVERIFY(app.wait_idle());
    QCOMPARE(last_row(app.chat->messages(), MessageListModel::ContentRole).toString().size(), 600);
    qInfo("400 pieces, %lld model updates", static_cast<long long>(changes.count()));
    QVERIFY(changes.count() < 40);
  }

  void stop_keeps_the_partial_answer_as_stopped() {
    test::FakeScript script;
    script.final.assign(2000, "word ");
    script.delay = std::chrono::milliseconds(1);
    test::FakeChatEngine engine(script);
    test::AppUnderTest app("app-stop", test::factory_for(&engine));
    QVERIFY(app.load());
    QVERIFY(app.chat->send("long answer please"));
    auto* m = app.chat->messages();
    QVERIFY(QTest::qWaitFor([&] { return last_row(m, MessageListModel::ContentRole).toString().size() > 20; }, 10000));
    app.chat->stop();
    QVERIFY(app.wait_idle(10000));
    const QString content = last_row(m, MessageListModel::ContentRole).toString();
    QVERIFY(content.size() > 20 && content.size() < 2000 * 5);
    QCOMPARE(last_row(m, MessageListModel::StatusRole).toString(), QString("cancelled"));
    const auto thread = storage::visible_thread(*app.db, app.chat->currentConversationId());
    QCOMPARE(QString::fromStdString(thread.back().content), content);  // nothing lost
  }

  void regenerate_and_edit_make_branches() {
    test::FakeChatEngine engine;
    test::AppUnderTest app("app-branch", test::factory_for(&engine));
    QAbstractItemModelTester tester(app.chat->messages(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(app.load());
    QVERIFY(app.chat->send("first question"));
    QVERIFY(app.wait_idle());
    auto* m = app.chat->messages();
    const qint64 first_answer = last_row(m, MessageListModel::IdRole).toLongLong();

    test::FakeScript other;
    other.final = {"A ", "different ", "answer."};
    engine.set_script(other);
    QVERIFY(app.chat->regenerate());
    QVERIFY(app.wait_idle());
    QCOMPARE(m->rowCount(), 2);
    QCOMPARE(last_row(m, MessageListModel::ContentRole).toString(), QString("A different answer."));
    QCOMPARE(last_row(m, MessageListModel::SiblingCountRole).toInt(), 2);
    QCOMPARE(last_row(m, MessageListModel::SiblingIndexRole).toInt(), 1);
    // ‹ goes back to the first answer, which was kept.
    app.chat->showSibling(last_row(m, MessageListModel::IdRole).toLongLong(), -1);
    QCOMPARE(last_row(m, MessageListModel::IdRole).toLongLong(), first_answer);
    QCOMPARE(last_row(m, MessageListModel::SiblingIndexRole).toInt(), 0);

    // Edit-and-resend the question: a second user message beside the first.
    const qint64 question = m->data(m->index(0), MessageListModel::IdRole).toLongLong();
    QVERIFY(app.chat->editAndResend(question, "edited question"));
    QVERIFY(app.wait_idle());
    QCOMPARE(m->data(m->index(0), MessageListModel::ContentRole).toString(), QString("edited question"));
    QCOMPARE(m->data(m->index(0), MessageListModel::SiblingCountRole).toInt(), 2);
    const auto sent = engine.conversations().back();
    QCOMPARE(sent.messages.back().content, std::string("edited question"));
    QCOMPARE(sent.messages.size(), std::size_t{1});  // the old question is not in the new branch
  }

  // Reading the thread again after a change keeps the rows that stayed, so
  // the view's items for them live on (a reasoning opened by hand, a
  // selection, where the user scrolled to): a finished answer changes its row
  // in place, a new message is inserted, a regenerated answer replaces the
  // last row. Only another conversation resets the list.
  void the_thread_changes_in_place() {
    test::FakeChatEngine engine;
    test::AppUnderTest app("app-in-place", test::factory_for(&engine));
    QAbstractItemModelTester tester(app.chat->messages(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(app.load());
    QVERIFY(app.chat->send("first question"));
    QVERIFY(app.wait_idle());
    auto* m = app.chat->messages();
    QSignalSpy resets(m, &QAbstractItemModel::modelReset);
    QSignalSpy inserted(m, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(m, &QAbstractItemModel::rowsRemoved);
    QSignalSpy changed(m, &QAbstractItemModel::dataChanged);

    QVERIFY(app.chat->send("second question"));
    QVERIFY(app.wait_idle());
    QCOMPARE(m->rowCount(), 4);
    QCOMPARE(resets.count(), 0);
    QCOMPARE(inserted.count(), 1);  // the question and its answer, once sent
    QCOMPARE(inserted[0][1].toInt(), 2);
    QCOMPARE(inserted[0][2].toInt(), 3);
    QCOMPARE(removed.count(), 0);
    for (const auto& change : changed)  // the streaming answer, then its finished state: never rows 0-2
      QCOMPARE(change[0].toModelIndex().row(), 3);
    QCOMPARE(last_row(m, MessageListModel::StreamingRole).toBool(), false);
    QCOMPARE(last_row(m, MessageListModel::StatusRole).toString(), QString("complete"));

    QVERIFY(app.chat->regenerate());
    QVERIFY(app.wait_idle());
    QCOMPARE(resets.count(), 0);
    QCOMPARE(removed.count(), 1);  // the old answer makes room for the new one
    QCOMPARE(removed[0][1].toInt(), 3);
    QCOMPARE(m->rowCount(), 4);
    QCOMPARE(last_row(m, MessageListModel::SiblingCountRole).toInt(), 2);

    app.chat->newConversation();
    QCOMPARE(resets.count(), 1);
    QCOMPARE(m->rowCount(), 0);
  }

  // The sidebar is changed row by row, never reset: a conversation answered
  // again moves to the top, a new one is inserted, a deleted one removed, so
  // the sidebar keeps its scroll position, an open menu, a rename in progress.
  void the_sidebar_moves_rows_instead_of_resetting() {
    test::FakeChatEngine engine;
    test::AppUnderTest app("app-sidebar", test::factory_for(&engine));
    auto* list = app.chat->conversations();
    QAbstractItemModelTester tester(list, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(app.load());
    QVERIFY(app.chat->send("first chat"));
    QVERIFY(app.wait_idle());
    const qint64 first = app.chat->currentConversationId();
    app.chat->newConversation();
    QVERIFY(app.chat->send("second chat"));
    QVERIFY(app.wait_idle());
    const qint64 second = app.chat->currentConversationId();
    QCOMPARE(list->row_of(second), 0);
    QCOMPARE(list->row_of(first), 1);

    QSignalSpy resets(list, &QAbstractItemModel::modelReset);
    QSignalSpy moved(list, &QAbstractItemModel::rowsMoved);
    QSignalSpy removed(list, &QAbstractItemModel::rowsRemoved);
    QTest::qWait(5);  // so the answer below is later than the one before, to the millisecond
    app.chat->selectConversation(first);
    QVERIFY(app.chat->send("back to the first"));
    QVERIFY(app.wait_idle());
    QCOMPARE(list->row_of(first), 0);  // answered last: on top
    QCOMPARE(list->row_of(second), 1);
    QCOMPARE(moved.count(), 1);
    QCOMPARE(resets.count(), 0);
    QCOMPARE(list->data(list->index(0), gui::ConversationListModel::MessageCountRole).toLongLong(), 4);

    app.chat->newConversation();
    QVERIFY(app.chat->send("third chat"));
    QVERIFY(app.wait_idle());
    QCOMPARE(list->rowCount(), 3);
    app.chat->deleteConversation(second);
    QCOMPARE(list->rowCount(), 2);
    QCOMPARE(list->row_of(second), -1);
    QCOMPARE(removed.count(), 1);
    QCOMPARE(resets.count(), 0);
    app.chat->undoDelete();
    QCOMPARE(list->row_of(second), 2);
    QCOMPARE(resets.count(), 0);
  }

  // The effort chosen for a conversation is what the engine receives, and it
  // lands in the system message the model reads.
  void effort_choice_reaches_the_system_message() {
    test::FakeChatEngine engine;
    test::AppUnderTest app("app-effort", test::factory_for(&engine));
    QVERIFY(app.load());
    QCOMPARE(app.chat->reasoningEffort(), QString("medium"));  // the default, visible
    app.chat->setReasoningEffort("high");
    QVERIFY(!app.chat->effortHint().isEmpty());  // a 4096-token context is short for high
    QVERIFY(app.chat->send("think hard"));
    QVERIFY(app.wait_idle());
    QCOMPARE(engine.settings().back().reasoning, ReasoningEffort::High);
    const std::string prompt = harmony::render_for_completion([&] {
      Conversation c = engine.conversations().back();
      c.system->reasoning = engine.settings().back().reasoning;
      return c;
    }());
    QVERIFY2(prompt.find("Reasoning: high") != std::string::npos, prompt.c_str());
    QCOMPARE(storage::get_conversation(*app.db, app.chat->currentConversationId()).settings.reasoning_effort,
             std::string("high"));
    app.chat->setReasoningEffort("low");
    QVERIFY(app.chat->effortHint().isEmpty());
  }

  void delete_can_be_undone_and_search_finds_messages() {
    test::FakeChatEngine engine;
    test::AppUnderTest app("app-sidebar", test::factory_for(&engine));
    QAbstractItemModelTester t1(app.chat->conversations(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t2(app.chat->searchResults(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(app.load());
    for (const char* q : {"tell me about penguins", "how do volcanoes form"}) {
      app.chat->newConversation();
      QVERIFY(app.chat->send(q));
      QVERIFY(app.wait_idle());
    }
    auto* list = app.chat->conversations();
    QCOMPARE(list->rowCount(), 2);
    QCOMPARE(list->data(list->index(0), gui::ConversationListModel::SectionRole).toString(), QString("Today"));

    app.chat->search("volcano");
    QCOMPARE(app.chat->searchResults()->rowCount(), 1);
    app.chat->search("answer");  // in both answers
    QCOMPARE(app.chat->searchResults()->rowCount(), 2);

    const qint64 penguins = list->data(list->index(1), gui::ConversationListModel::IdRole).toLongLong();
    app.chat->renameConversation(penguins, "Penguins");
    app.chat->setPinned(penguins, true);
    QCOMPARE(list->data(list->index(0), gui::ConversationListModel::TitleRole).toString(), QString("Penguins"));
    QCOMPARE(list->data(list->index(0), gui::ConversationListModel::SectionRole).toString(), QString("Pinned"));

    app.chat->deleteConversation(penguins);
    QCOMPARE(list->rowCount(), 1);
    QCOMPARE(app.chat->pendingDeleteTitle(), QString("Penguins"));
    app.chat->undoDelete();
    QCOMPARE(list->rowCount(), 2);
    QVERIFY(storage::find_conversation(*app.db, penguins).has_value());
    app.chat->deleteConversation(penguins);
    app.chat->commit_pending_delete();  // what the undo timer does after a few seconds
    QCOMPARE(list->rowCount(), 1);
    QVERIFY(!storage::find_conversation(*app.db, penguins).has_value());
  }

  // An answer cut off by a crash (left `partial` by a writer that is gone)
  // shows as interrupted, with the words it had, in the thread and the sidebar.
  void a_crashed_answer_shows_as_interrupted() {
    qint64 conversation = 0;
    test::FakeChatEngine engine;
    test::AppUnderTest app("app-crash", test::factory_for(&engine), [&](const std::filesystem::path& file) {
      auto db = storage::Database::open(file);
      conversation = storage::create_conversation(db, {"Crash test", {}, {}});
      storage::NewMessage user;
      user.content = "a question";
      storage::append_message(db, conversation, user);
      storage::NewMessage partial;
      partial.role = storage::Role::Assistant;
      partial.reasoning = "thinking about";
      partial.content = "The first half of";
      partial.status = storage::MessageStatus::Partial;
      storage::append_message(db, conversation, partial);
    });
    app.chat->openMostRecent();
    QCOMPARE(app.chat->currentConversationId(), conversation);
    auto* m = app.chat->messages();
    QCOMPARE(m->rowCount(), 2);
    QCOMPARE(last_row(m, MessageListModel::InterruptedRole).toBool(), true);
    QCOMPARE(last_row(m, MessageListModel::ContentRole).toString(), QString("The first half of"));
    auto* list = app.chat->conversations();
    QCOMPARE(list->data(list->index(0), gui::ConversationListModel::InterruptedRole).toBool(), true);
  }

  // Backend, device and context apply at the next load; the app says so.
  void changed_load_settings_ask_for_a_reload() {
    test::FakeChatEngine engine;
    test::AppUnderTest app("app-reload", test::factory_for(&engine));
    QVERIFY(app.load());
    QVERIFY(!app.models->reloadNeeded());
    QSignalSpy spy(app.models.get(), &gui::ModelController::reloadNeededChanged);
    app.settings->setContextLength(16384);
    QVERIFY(app.models->reloadNeeded());
    QVERIFY(spy.count() >= 1);
    app.settings->setTemperature(0.5);  // sampling applies at once: no reload for it
    app.settings->setContextLength(16384);
    app.models->reload();
    QVERIFY(QTest::qWaitFor([&] { return app.models->state() == "ready"; }, 5000));
    QVERIFY(!app.models->reloadNeeded());
    QCOMPARE(app.models->modelPath(), QString("/models/scripted.gguf"));
  }

  // The real engine on a tiny synthetic model (real tokenizer, random
  // weights): the whole path from the controller to the KV cache and back.
  void real_engine_on_a_tiny_model() {
    test::AppUnderTest app("app-real", gui::real_engine_factory());
    app.settings->setBackend("cpu");
    app.settings->setContextLength(1024);
    app.settings->setMaxTokens(24);  // random weights rarely say <|return|>
    QVERIFY(app.load(QString::fromStdString(test::tiny_chat_model())));
    QCOMPARE(app.models->backendName(), QString("CPU"));
    QVERIFY(app.chat->send("Hello"));
    QVERIFY(app.wait_idle(120000));
    auto* m = app.chat->messages();
    QCOMPARE(m->rowCount(), 2);
    const QString status = last_row(m, MessageListModel::StatusRole).toString();
    QVERIFY2(status == "complete", qPrintable(status + ": " + last_row(m, MessageListModel::ErrorRole).toString()));
    QVERIFY(last_row(m, MessageListModel::StatsLineRole).toString().contains("tok/s"));
    QVERIFY(!last_row(m, MessageListModel::ContentRole).toString().isEmpty() ||
            !last_row(m, MessageListModel::ReasoningRole).toString().isEmpty());
    // A bad file: an error in plain words, and the app keeps working.
    app.models->load(QString::fromStdString((app.dir / "missing.gguf").string()));
    QVERIFY(QTest::qWaitFor([&] { return app.models->state() != "loading"; }, 10000));
    QCOMPARE(app.models->state(), QString("error"));
    QVERIFY2(app.models->errorText().contains("missing.gguf"), qPrintable(app.models->errorText()));
    QVERIFY(!app.chat->canSend());
  }
};

QTEST_MAIN(TestChatController)
#include "test_chat_controller.moc"

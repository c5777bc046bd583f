// The chat: the sidebar's conversations, the visible thread, sending,
// streaming, stop, regenerate, edit-and-resend, branches, rename / pin /
// delete with undo, search, and each conversation's reasoning effort and
// system prompt. Everything is saved through storage as it happens: the
// user's message before generation starts, the answer while it streams (see
// StreamingAnswerWriter), so a crash loses at most a fraction of a second.
//
// Threads: the controller lives on the UI thread with the Database. The
// engine's events arrive on the engine's thread into an EventInbox; a frame
// timer drains it, so the UI never waits on the engine and the message model
// changes at most once per frame however fast tokens come.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <QtQml/qqmlregistration.h>

#include <functional>
#include <memory>
#include <optional>

#include "conversation_list_model.h"
#include "event_inbox.h"
#include "message_list_model.h"
#include "search_model.h"

namespace ossdesk::storage {
class Database;
class StreamingAnswerWriter;
}  // namespace ossdesk::storage

namespace ossdesk::gui {

class AppSettings;
class ModelController;

class ChatController : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("made by main()")
  Q_PROPERTY(ossdesk::gui::ConversationListModel* conversations READ conversations CONSTANT)
  Q_PROPERTY(ossdesk::gui::MessageListModel* messages READ messages CONSTANT)
  Q_PROPERTY(ossdesk::gui::SearchModel* searchResults READ searchResults CONSTANT)
  Q_PROPERTY(qint64 currentConversationId READ currentConversationId NOTIFY currentChanged)
  Q_PROPERTY(QString currentTitle READ currentTitle NOTIFY currentChanged)
  Q_PROPERTY(QString reasoningEffort READ reasoningEffort WRITE setReasoningEffort NOTIFY currentChanged)
  Q_PROPERTY(QString effortHint READ effortHint NOTIFY currentChanged)
  Q_PROPERTY(QString systemPrompt READ systemPrompt WRITE setSystemPrompt NOTIFY currentChanged)
  Q_PROPERTY(bool busy READ busy NOTIFY busyChanged)
  Q_PROPERTY(bool canSend READ canSend NOTIFY canSendChanged)
  Q_PROPERTY(QString sendBlockedReason READ sendBlockedReason NOTIFY canSendChanged)
  Q_PROPERTY(QString liveStats READ liveStats NOTIFY liveStatsChanged)
  Q_PROPERTY(double liveTokensPerSecond READ liveTokensPerSecond NOTIFY liveStatsChanged)
  Q_PROPERTY(int liveTokens READ liveTokens NOTIFY liveStatsChanged)
  Q_PROPERTY(QString lastError READ lastError NOTIFY lastErrorChanged)
  Q_PROPERTY(QString pendingDeleteTitle READ pendingDeleteTitle NOTIFY pendingDeleteChanged)
  Q_PROPERTY(QString recoveryMessage READ recoveryMessage CONSTANT)

 public:
  ChatController(storage::Database& db, AppSettings& settings, ModelController& model, QObject* parent = nullptr);
  ~ChatController() override;

  ConversationListModel* conversations() { return &conversations_; }
  MessageListModel* messages() { return &messages_; }
  SearchModel* searchResults() { return &search_; }
  qint64 currentConversationId() const { return current_; }
  QString currentTitle() const;
  QString reasoningEffort() const;
  void setReasoningEffort(const QString& effort);
  QString effortHint() const;
  QString systemPrompt() const;
  void setSystemPrompt(const QString& prompt);
  bool busy() const { return writer_ != nullptr; }
  bool canSend() const { return sendBlockedReason().isEmpty(); }
  QString sendBlockedReason() const;
  QString liveStats() const { return live_stats_; }
  double liveTokensPerSecond() const { return live_rate_; }
  int liveTokens() const { return tokens_; }
  QString lastError() const { return last_error_; }
  QString pendingDeleteTitle() const { return pending_delete_title_; }
  QString recoveryMessage() const { return recovery_message_; }

  Q_INVOKABLE void newConversation();
  Q_INVOKABLE void openMostRecent();  // the conversation last active, or a new chat when there is none
  Q_INVOKABLE void selectConversation(qint64 id);
  Q_INVOKABLE void renameConversation(qint64 id, const QString& title);
  Q_INVOKABLE void setPinned(qint64 id, bool pinned);
  // Hides the conversation now and deletes it after a few seconds unless undoDelete() comes first.
  Q_INVOKABLE void deleteConversation(qint64 id);
  Q_INVOKABLE void undoDelete();
  Q_INVOKABLE void search(const QString& query);
  Q_INVOKABLE bool send(const QString& text);
  Q_INVOKABLE void stop();
  Q_INVOKABLE bool regenerate();  // a new answer to the last user message, kept beside the old one
  Q_INVOKABLE bool editAndResend(qint64 message_id, const QString& text);  // a new branch from that message
  Q_INVOKABLE void showSibling(qint64 message_id, int delta);  // ‹ › between alternatives
  Q_INVOKABLE void copyText(const QString& text);
  Q_INVOKABLE void copyLastAnswer();
  Q_INVOKABLE void clearError();

  // Stops a running answer and waits for the engine, saving what came (app exit, model unload).
  void stop_and_wait();
  // Deletes now what waits for its undo period (app exit).
  void commit_pending_delete();
  static constexpr int kUndoMs = 5000;
  static constexpr int kFrameMs = 16;
  static constexpr int kStatsMs = 250;  // the speed line changes at most 4 times a second

 signals:
  void currentChanged();
  void busyChanged();
  void canSendChanged();
  void liveStatsChanged();
  void lastErrorChanged();
  void pendingDeleteChanged();
  void answerFinished(qint64 message_id, const QString& status);

 private:
  void refresh_conversations();
  void reload_thread();
  bool start_generation(qint64 parent_id);
  void drain();
  void finish_generation(FinishReason finish, const GenerationStats& stats, const std::string& error);
  void update_live_stats(bool force);
  void report(const QString& doing, const std::exception& e);
  std::optional<storage::ConversationRecord> current_record() const;
  // Applies `change` to the current conversation's settings and saves them;
  // false when the chat is a draft (not saved yet).
  bool change_current_settings(const std::function<void(storage::ConversationSettings&)>& change, const QString& doing);

  storage::Database& db_;
  AppSettings& settings_;
  ModelController& model_;
  ConversationListModel conversations_;
  MessageListModel messages_;
  SearchModel search_;
  qint64 current_ = 0;  // 0: a new chat not yet saved (created by its first message)
  QString draft_effort_, draft_system_prompt_;

  // The running answer.
  std::unique_ptr<storage::StreamingAnswerWriter> writer_;
  std::shared_ptr<EventInbox> inbox_;
  qint64 generating_conversation_ = 0;
  std::string generating_effort_;
  QTimer frame_timer_;
  QElapsedTimer clock_;
  qint64 first_token_ms_ = -1, reasoning_start_ms_ = -1, reasoning_end_ms_ = -1, last_stats_ms_ = -1;
  int tokens_ = 0;
  double live_rate_ = 0;
  QString live_stats_;
  std::optional<GenerationStats> final_stats_;
  std::string final_error_;

  qint64 pending_delete_ = 0;
  QString pending_delete_title_;
  QTimer undo_timer_;
  QString last_error_, recovery_message_;
};

}  // namespace ossdesk::gui

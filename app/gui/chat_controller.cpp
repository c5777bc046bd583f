#include "chat_controller.h"

#include <QClipboard>
#include <QGuiApplication>

#include <algorithm>

#include "app_settings.h"
#include "history_bridge.h"
#include "model_controller.h"
#include "ossdesk/storage/conversations.h"
#include "ossdesk/storage/database.h"
#include "ossdesk/storage/error.h"
#include "ossdesk/storage/messages.h"
#include "ossdesk/storage/search.h"
#include "ossdesk/storage/streaming.h"

namespace ossdesk::gui {
namespace {

bool valid_effort(const QString& e) { return e == "low" || e == "medium" || e == "high"; }

}  // namespace

ChatController::ChatController(storage::Database& db, AppSettings& settings, ModelController& model, QObject* parent)
    : QObject(parent), db_(db), settings_(settings), model_(model) {
  draft_effort_ = settings_.defaultEffort();
  if (db_.recovery()) recovery_message_ = QString::fromStdString(db_.recovery()->message);
  frame_timer_.setInterval(kFrameMs);
  connect(&frame_timer_, &QTimer::timeout, this, &ChatController::drain);
  undo_timer_.setSingleShot(true);
  undo_timer_.setInterval(kUndoMs);
  connect(&undo_timer_, &QTimer::timeout, this, &ChatController::commit_pending_delete);
  connect(&model_, &ModelController::aboutToUnload, this, &ChatController::stop_and_wait);
  connect(&model_, &ModelController::stateChanged, this, [this] {
    emit canSendChanged();
    emit currentChanged();  // the effort hint depends on the context length
  });
  refresh_conversations();
}

ChatController::~ChatController() {
  stop_and_wait();
  commit_pending_delete();
}

void ChatController::report(const QString& doing, const std::exception& e) {
  last_error_ = tr("Could not %1: %2").arg(doing, QString::fromUtf8(e.what()));
  emit lastErrorChanged();
}

void ChatController::clearError() {
  last_error_.clear();
  emit lastErrorChanged();
}

std::optional<storage::ConversationRecord> ChatController::current_record() const {
  if (current_ == 0) return std::nullopt;
  try {
    return storage::find_conversation(db_, current_);
  } catch (const storage::StorageError&) {
    return std::nullopt;
  }
}

QString ChatController::currentTitle() const {
  const auto c = current_record();
  return c ? QString::fromStdString(c->title) : tr("New chat");
}

QString ChatController::reasoningEffort() const {
  const auto c = current_record();
  return c ? QString::fromStdString(c->settings.reasoning_effort) : draft_effort_;
}

void ChatController::setReasoningEffort(const QString& effort) {
  if (!valid_effort(effort) || effort == reasoningEffort()) return;
  const bool saved = change_current_settings([&](storage::ConversationSettings& s) { s.reasoning_effort = effort.toStdString(); },
                                             tr("save the reasoning effort"));
  if (!saved) draft_effort_ = effort;
  emit currentChanged();
}

bool ChatController::change_current_settings(const std::function<void(storage::ConversationSettings&)>& change,
                                             const QString& doing) {
  auto c = current_record();
  if (!c) return false;
  try {
    change(c->settings);
    storage::update_conversation_settings(db_, c->id, c->settings);
  } catch (const std::exception& e) {
    report(doing, e);
  }
  return true;
}

QString ChatController::effortHint() const {
  const int context = model_.contextLength() ? model_.contextLength() : settings_.contextLength();
  if (reasoningEffort() != "high" || context >= 16384) return {};
  return tr("High effort can think for thousands of tokens: with a %1-token context the answer may be cut short. "
            "A longer context can be set in Settings.").arg(context);
}

QString ChatController::systemPrompt() const {
  const auto c = current_record();
  return c ? QString::fromStdString(c->settings.system_prompt) : draft_system_prompt_;
}

void ChatController::setSystemPrompt(const QString& prompt) {
  if (prompt == systemPrompt()) return;
  const bool saved = change_current_settings([&](storage::ConversationSettings& s) { s.system_prompt = prompt.toStdString(); },
                                             tr("save the system prompt"));
  if (!saved) draft_system_prompt_ = prompt;
  emit currentChanged();
}

QString ChatController::sendBlockedReason() const {
  if (busy()) return tr("Wait for the answer, or stop it");
  const QString state = model_.state();
  if (state == "loading") return tr("The model is loading…");
  if (!model_.engine()) return tr("Open a model to start chatting");
  return {};
}

void ChatController::refresh_conversations() {
  try {
    auto rows = storage::list_conversations(db_);
    if (pending_delete_)
      rows.erase(std::remove_if(rows.begin(), rows.end(), [&](const auto& r) { return r.conversation.id == pending_delete_; }),
                 rows.end());
    conversations_.set_conversations(std::move(rows));
  } catch (const std::exception& e) {
    report(tr("read the conversations"), e);
  }
}

void ChatController::reload_thread() {
  std::vector<MessageRow> rows;
  if (current_ != 0) {
    try {
      for (storage::MessageRecord& m : storage::visible_thread(db_, current_)) {
        MessageRow row;
        const storage::Siblings s = storage::siblings(db_, m.id);
        row.sibling_index = static_cast<int>(s.index);
        row.sibling_count = static_cast<int>(s.ids.size());
        row.thinking_ms = m.stats.thinking_ms.value_or(0);
        // The answer streaming right now: the writer has more than the last flush.
        if (writer_ && m.id == writer_->message_id()) {
          m.content = writer_->content();
          m.reasoning = writer_->reasoning();
          row.streaming = true;
        }
        row.record = std::move(m);
        rows.push_back(std::move(row));
      }
    } catch (const std::exception& e) {
      report(tr("read the conversation"), e);
    }
  }
  messages_.set_rows(std::move(rows));
}

void ChatController::newConversation() {
  current_ = 0;
  draft_effort_ = settings_.defaultEffort();
  draft_system_prompt_.clear();
  reload_thread();
  emit currentChanged();
}

void ChatController::openMostRecent() {
  qint64 best = 0, best_ms = -1;
  for (int i = 0; i < conversations_.rowCount(); ++i) {
    const QModelIndex idx = conversations_.index(i);
    const qint64 ms = conversations_.data(idx, ConversationListModel::UpdatedRole).toDateTime().toMSecsSinceEpoch();
    if (ms > best_ms) best_ms = ms, best = conversations_.data(idx, ConversationListModel::IdRole).toLongLong();
  }
  if (best) selectConversation(best);
  else newConversation();
}

void ChatController::selectConversation(qint64 id) {
  if (id == current_) return;
  current_ = id;
  reload_thread();
  emit currentChanged();
}

void ChatController::renameConversation(qint64 id, const QString& title) {
  const QString t = title.simplified();
  if (t.isEmpty()) return;
  try {
    storage::rename_conversation(db_, id, t.toStdString());
  } catch (const std::exception& e) {
    report(tr("rename the conversation"), e);
  }
  refresh_conversations();
  if (id == current_) emit currentChanged();
}

void ChatController::setPinned(qint64 id, bool pinned) {
  try {
    storage::set_conversation_pinned(db_, id, pinned);
  } catch (const std::exception& e) {
    report(tr("pin the conversation"), e);
  }
  refresh_conversations();
}

void ChatController::deleteConversation(qint64 id) {
  if (id == generating_conversation_ && busy()) stop_and_wait();
  commit_pending_delete();  // one undo at a time
  const auto* row = conversations_.find(id);
  pending_delete_ = id;
  pending_delete_title_ = row ? QString::fromStdString(row->conversation.title) : QString();
  undo_timer_.start();
  if (id == current_) newConversation();
  refresh_conversations();
  emit pendingDeleteChanged();
}

void ChatController::undoDelete() {
  if (!pending_delete_) return;
  undo_timer_.stop();
  pending_delete_ = 0;
  pending_delete_title_.clear();
  refresh_conversations();
  emit pendingDeleteChanged();
}

void ChatController::commit_pending_delete() {
  if (!pending_delete_) return;
  undo_timer_.stop();
  const qint64 id = pending_delete_;
  pending_delete_ = 0;
  pending_delete_title_.clear();
  try {
    storage::delete_conversation(db_, id);
  } catch (const std::exception& e) {
    report(tr("delete the conversation"), e);
  }
  refresh_conversations();
  emit pendingDeleteChanged();
}

void ChatController::search(const QString& query) {
  try {
    // One row per conversation: its best hit (titles rank first, then messages).
    std::vector<storage::SearchHit> rows;
    for (storage::SearchHit& h : storage::search(db_, query.toStdString())) {
      const bool seen = std::any_of(rows.begin(), rows.end(), [&](const auto& r) { return r.conversation_id == h.conversation_id; });
      if (!seen && h.conversation_id != pending_delete_) rows.push_back(std::move(h));
    }
    search_.set_hits(std::move(rows));
  } catch (const std::exception& e) {
    report(tr("search"), e);
  }
}

bool ChatController::send(const QString& text) {
  const QString trimmed = text.trimmed();
  if (trimmed.isEmpty() || !canSend()) return false;
  try {
    if (current_ == 0) {
      storage::ConversationSettings s;
      s.model = model_.modelPath().toStdString();
      s.reasoning_effort = draft_effort_.toStdString();
      s.system_prompt = draft_system_prompt_.toStdString();
      current_ = storage::create_conversation(db_, {storage::derive_title(trimmed.toStdString()), s, {}});
      emit currentChanged();
    }
    storage::NewMessage m;
    m.role = storage::Role::User;
    m.content = trimmed.toStdString();
    const storage::RowId user_id = storage::append_message(db_, current_, m);
    return start_generation(user_id);
  } catch (const std::exception& e) {
    report(tr("save your message"), e);
    reload_thread();
    return false;
  }
}

bool ChatController::regenerate() {
  if (!canSend()) return false;
  const auto& rows = messages_.rows();
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
    if (it->record.role == storage::Role::User) return start_generation(it->record.id);
    if (it->record.role == storage::Role::Assistant && it->record.parent_id) return start_generation(*it->record.parent_id);
  }
  return false;
}

bool ChatController::editAndResend(qint64 message_id, const QString& text) {
  const QString trimmed = text.trimmed();
  if (trimmed.isEmpty() || !canSend()) return false;
  try {
    const storage::MessageRecord old = storage::get_message(db_, message_id);
    storage::NewMessage m;
    m.role = storage::Role::User;
    m.content = trimmed.toStdString();
    const storage::RowId id = storage::add_message(db_, old.conversation_id, old.parent_id, m);
    return start_generation(id);
  } catch (const std::exception& e) {
    report(tr("save the edited message"), e);
    return false;
  }
}

void ChatController::showSibling(qint64 message_id, int delta) {
  if (busy()) return;
  try {
    const storage::Siblings s = storage::siblings(db_, message_id);
    const auto target = static_cast<long long>(s.index) + delta;
    if (target < 0 || target >= static_cast<long long>(s.ids.size())) return;
    storage::select_branch(db_, s.ids[static_cast<std::size_t>(target)]);
  } catch (const std::exception& e) {
    report(tr("switch the branch"), e);
  }
  reload_thread();
}

bool ChatController::start_generation(qint64 parent_id) {
  ChatEngine* engine = model_.engine();
  if (!engine || busy()) return false;
  try {
    const storage::ConversationRecord conv = storage::get_conversation(db_, current_);
    const Conversation conversation = bridge::to_conversation(storage::thread_to(db_, parent_id), conv.settings);
    GenerationSettings g;
    g.temperature = static_cast<float>(settings_.temperature());
    g.top_p = static_cast<float>(settings_.topP());
    g.max_tokens = settings_.maxTokens();
    g = bridge::apply_sampling(conv.settings.sampling, g);
    g.reasoning = parse_reasoning_effort(conv.settings.reasoning_effort).value_or(ReasoningEffort::Medium);
    storage::MessageStats start;
    start.model = model_.modelPath().toStdString();
    start.backend = engine->backend_name();
    start.device = engine->device_name();
    start.reasoning_effort = conv.settings.reasoning_effort;
    writer_ = std::make_unique<storage::StreamingAnswerWriter>(db_, current_, parent_id, start);
    generating_conversation_ = current_;
    generating_effort_ = conv.settings.reasoning_effort;
    inbox_ = std::make_shared<EventInbox>();
    tokens_ = 0;
    live_rate_ = 0;
    first_token_ms_ = reasoning_start_ms_ = reasoning_end_ms_ = last_stats_ms_ = -1;
    final_stats_.reset();
    final_error_.clear();
    clock_.start();
    reload_thread();  // shows the user's message and the empty answer (the new leaf)
    auto inbox = inbox_;
    engine->submit(conversation, g, [inbox](const Event& e) { inbox->push(e); });
    frame_timer_.start();
  } catch (const std::exception& e) {
    try {
      if (writer_) writer_->finish(storage::MessageStatus::Error, {}, e.what());
    } catch (const std::exception&) {
      // The writer's destructor saves what it can and marks the answer interrupted.
    }
    writer_.reset();
    report(tr("start the answer"), e);
    reload_thread();
    return false;
  }
  update_live_stats(true);
  refresh_conversations();
  emit busyChanged();
  emit canSendChanged();
  return true;
}

void ChatController::drain() {
  if (!writer_) return;
  EventBatch batch = inbox_->take();
  const qint64 now = clock_.elapsed();
  if (!batch.reasoning.empty() || !batch.content.empty()) {
    if (first_token_ms_ < 0) first_token_ms_ = now;
    tokens_ += batch.tokens;
  }
  if (!batch.reasoning.empty() && reasoning_start_ms_ < 0) reasoning_start_ms_ = now;
  if (!batch.content.empty() && reasoning_start_ms_ >= 0 && reasoning_end_ms_ < 0) reasoning_end_ms_ = now;
  try {
    if (!batch.reasoning.empty()) writer_->append_reasoning(batch.reasoning);
    if (!batch.content.empty()) writer_->append_content(batch.content);
    for (const Event& call : batch.tool_calls) writer_->add_tool_call({"", call.recipient, call.text});
  } catch (const storage::StorageError& e) {
    report(tr("save the answer (it is kept in memory and saved at the next chance)"), e);
  }
  if (batch.stats) final_stats_ = batch.stats;
  if (!batch.error.empty()) final_error_ = batch.error;
  const bool text = !batch.reasoning.empty() || !batch.content.empty();
  if (text && current_ == generating_conversation_) {
    const double thinking = reasoning_start_ms_ < 0 ? 0 : double((reasoning_end_ms_ < 0 ? now : reasoning_end_ms_) - reasoning_start_ms_);
    // Only the roles of the text that grew: each is split and compared again
    // by the view (a long reasoning need not be while the answer streams).
    QList<int> roles{MessageListModel::ThinkingMsRole};
    if (!batch.reasoning.empty()) roles << MessageListModel::ReasoningRole << MessageListModel::ReasoningPiecesRole;
    if (!batch.content.empty()) roles << MessageListModel::ContentRole << MessageListModel::BlocksRole;
    messages_.update_last(
        [&](MessageRow& row) {
          row.record.content = writer_->content();
          row.record.reasoning = writer_->reasoning();
          row.thinking_ms = thinking;
        },
        roles);
  }
  update_live_stats(false);
  if (batch.done) finish_generation(*batch.done, final_stats_.value_or(GenerationStats{}), final_error_);
}

void ChatController::update_live_stats(bool force) {
  const qint64 now = clock_.isValid() ? clock_.elapsed() : 0;
  if (!force && last_stats_ms_ >= 0 && now - last_stats_ms_ < kStatsMs) return;
  last_stats_ms_ = now;
  const double decode_s = first_token_ms_ < 0 ? 0 : (now - first_token_ms_) / 1000.0;
  live_rate_ = decode_s > 0 && tokens_ > 1 ? (tokens_ - 1) / decode_s : 0;
  ChatEngine* engine = model_.engine();
  live_stats_ = stats_line(live_rate_, first_token_ms_ < 0 ? 0 : double(first_token_ms_), tokens_,
                           engine ? engine->backend_name() : std::string(), engine ? engine->device_name() : std::string());
  if (first_token_ms_ < 0) live_stats_ = tr("Reading the prompt…") + (live_stats_.isEmpty() ? "" : " · " + live_stats_);
  emit liveStatsChanged();
}

void ChatController::finish_generation(FinishReason finish, const GenerationStats& stats, const std::string& error) {
  frame_timer_.stop();
  const qint64 message_id = writer_->message_id();
  storage::MessageStats s = bridge::stats_of(stats, model_.modelPath().toStdString(), generating_effort_);
  if (s.thinking_ms.value_or(0) <= 0 && reasoning_start_ms_ >= 0)
    s.thinking_ms = double((reasoning_end_ms_ < 0 ? clock_.elapsed() : reasoning_end_ms_) - reasoning_start_ms_);
  const storage::MessageStatus status = bridge::status_of(finish);
  try {
    writer_->finish(status, s, error);
  } catch (const storage::StorageError& e) {
    report(tr("save the end of the answer"), e);
  }
  writer_.reset();  // its destructor saves what is left if finish() failed
  inbox_.reset();
  generating_conversation_ = 0;
  if (!error.empty()) {
    last_error_ = QString::fromStdString(error);
    emit lastErrorChanged();
  }
  live_stats_ = stats_line(stats.decode_tokens_per_s, stats.ttft_ms, stats.generated_tokens, stats.backend, stats.device);
  emit liveStatsChanged();
  reload_thread();
  refresh_conversations();
  emit busyChanged();
  emit canSendChanged();
  emit answerFinished(message_id, QString::fromLatin1(storage::to_string(status)));
}

void ChatController::stop() {
  if (ChatEngine* engine = model_.engine(); engine && busy()) engine->cancel();
}

void ChatController::stop_and_wait() {
  if (!busy()) return;
  if (ChatEngine* engine = model_.engine()) {
    engine->cancel();
    engine->wait();  // Done has been pushed once this returns
  } else {
    inbox_->push([] { Event e(EventType::Done); e.finish = FinishReason::Cancelled; return e; }());
  }
  drain();
  if (busy()) finish_generation(FinishReason::Cancelled, final_stats_.value_or(GenerationStats{}), final_error_);
}

void ChatController::copyText(const QString& text) {
  if (auto* clipboard = QGuiApplication::clipboard()) clipboard->setText(text);
}

void ChatController::copyLastAnswer() {
  const auto& rows = messages_.rows();
  for (auto it = rows.rbegin(); it != rows.rend(); ++it)
    if (it->record.role == storage::Role::Assistant && !it->record.content.empty()) {
      copyText(QString::fromStdString(it->record.content));
      return;
    }
}

}  // namespace ossdesk::gui

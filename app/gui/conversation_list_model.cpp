#include "conversation_list_model.h"

namespace ossdesk::gui {

int ConversationListModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

QVariant ConversationListModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const storage::ConversationSummary& s = rows_[static_cast<std::size_t>(index.row())];
  const storage::ConversationRecord& c = s.conversation;
  switch (role) {
    case IdRole: return QVariant::fromValue<qint64>(c.id);
    case Qt::DisplayRole:
    case TitleRole: return c.title.empty() ? tr("New chat") : QString::fromStdString(c.title);
    case PinnedRole: return c.pinned;
    case UpdatedRole: return QDateTime::fromMSecsSinceEpoch(c.updated_ms);
    case SectionRole: return section_for(c.updated_ms, c.pinned, QDateTime::currentDateTime());
    case MessageCountRole: return QVariant::fromValue<qint64>(s.message_count);
    case InterruptedRole: return s.has_interrupted;
  }
  return {};
}

QHash<int, QByteArray> ConversationListModel::roleNames() const {
  return {{IdRole, "conversationId"}, {TitleRole, "title"},       {PinnedRole, "pinned"},
          {UpdatedRole, "updated"},   {SectionRole, "section"},   {MessageCountRole, "messageCount"},
          {InterruptedRole, "interrupted"}};
}

void ConversationListModel::set_conversations(std::vector<storage::ConversationSummary> rows) {
  const bool count_changes = rows.size() != rows_.size();
  beginResetModel();
  rows_ = std::move(rows);
  endResetModel();
  if (count_changes) emit countChanged();
}

int ConversationListModel::row_of(qint64 id) const {
  for (std::size_t i = 0; i < rows_.size(); ++i)
    if (rows_[i].conversation.id == id) return static_cast<int>(i);
  return -1;
}

const storage::ConversationSummary* ConversationListModel::find(qint64 id) const {
  const int row = row_of(id);
  return row < 0 ? nullptr : &rows_[static_cast<std::size_t>(row)];
}

QString ConversationListModel::section_for(qint64 updated_ms, bool pinned, const QDateTime& now) {
  if (pinned) return tr("Pinned");
  const QDate day = QDateTime::fromMSecsSinceEpoch(updated_ms).toLocalTime().date();
  const qint64 days = day.daysTo(now.toLocalTime().date());
  if (days <= 0) return tr("Today");
  if (days == 1) return tr("Yesterday");
  if (days < 7) return tr("Previous 7 days");
  if (days < 30) return tr("Previous 30 days");
  return tr("Older");
}

}  // namespace ossdesk::gui

#include "conversation_list_model.h"

#include <unordered_set>

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
  const std::size_t old_count = rows_.size();
  // Conversations no longer listed (deleted, or hidden while a delete can be undone).
  std::unordered_set<storage::RowId> listed;
  for (const storage::ConversationSummary& s : rows) listed.insert(s.conversation.id);
  for (std::size_t i = rows_.size(); i-- > 0;) {
    if (listed.count(rows_[i].conversation.id)) continue;
    beginRemoveRows({}, static_cast<int>(i), static_cast<int>(i));
    rows_.erase(rows_.begin() + static_cast<std::ptrdiff_t>(i));
    endRemoveRows();
  }
  // Then place by place: the conversation already there stays, one further
  // down moves up (the one just answered goes to the top), a new one is
  // inserted. Rows 0..i-1 already match, so the search starts at i, and in the
  // usual change (one row moved) it finds the rest where they are.
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const storage::RowId id = rows[i].conversation.id;
    std::size_t at = i;
    while (at < rows_.size() && rows_[at].conversation.id != id) ++at;
    const int row = static_cast<int>(i);
    if (at == rows_.size()) {
      beginInsertRows({}, row, row);
      rows_.insert(rows_.begin() + row, std::move(rows[i]));
      endInsertRows();
      continue;
    }
    if (at != i) {
      beginMoveRows({}, static_cast<int>(at), static_cast<int>(at), {}, row);
      storage::ConversationSummary moved = std::move(rows_[at]);
      rows_.erase(rows_.begin() + static_cast<std::ptrdiff_t>(at));
      rows_.insert(rows_.begin() + row, std::move(moved));
      endMoveRows();
    }
    if (rows_[i] == rows[i]) continue;
    rows_[i] = std::move(rows[i]);
    emit dataChanged(index(row), index(row));
  }
  // Date groups move on with the clock ("Today" becomes "Yesterday").
  if (!rows_.empty()) emit dataChanged(index(0), index(static_cast<int>(rows_.size()) - 1), {SectionRole});
  if (rows_.size() != old_count) emit countChanged();
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

#include "search_model.h"

namespace ossdesk::gui {

int SearchModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(hits_.size()); }

QVariant SearchModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const storage::SearchHit& h = hits_[static_cast<std::size_t>(index.row())];
  switch (role) {
    case ConversationIdRole: return QVariant::fromValue<qint64>(h.conversation_id);
    case MessageIdRole: return QVariant::fromValue<qint64>(h.message_id.value_or(0));
    case Qt::DisplayRole:
    case TitleRole: return QString::fromStdString(h.title);
    case SnippetRole: return QString::fromStdString(h.snippet);
  }
  return {};
}

QHash<int, QByteArray> SearchModel::roleNames() const {
  return {{ConversationIdRole, "conversationId"}, {MessageIdRole, "messageId"}, {TitleRole, "title"}, {SnippetRole, "snippet"}};
}

void SearchModel::set_hits(std::vector<storage::SearchHit> hits) {
  const bool count_changes = hits.size() != hits_.size();
  beginResetModel();
  hits_ = std::move(hits);
  endResetModel();
  if (count_changes) emit countChanged();
}

}  // namespace ossdesk::gui

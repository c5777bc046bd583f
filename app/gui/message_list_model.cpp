#include "message_list_model.h"

#include <QVariantMap>

#include <iterator>

#include "markdown_blocks.h"
#include "text_pieces.h"

namespace ossdesk::gui {

QString backend_display_name(const std::string& backend) {
  if (backend == "vulkan") return QStringLiteral("Vulkan");
  if (backend == "cuda") return QStringLiteral("CUDA");
  if (backend == "cpu") return QStringLiteral("CPU");
  return QString::fromStdString(backend);
}

QString stats_line(double tokens_per_s, double ttft_ms, long long tokens, const std::string& backend,
                   const std::string& device) {
  QStringList parts;
  if (tokens_per_s > 0) parts << QStringLiteral("%1 tok/s").arg(tokens_per_s, 0, 'f', 1);
  if (ttft_ms > 0) parts << QStringLiteral("TTFT %1 s").arg(ttft_ms / 1000.0, 0, 'f', 2);
  if (tokens > 0) parts << (tokens == 1 ? QStringLiteral("1 token") : QStringLiteral("%1 tokens").arg(tokens));
  if (!backend.empty()) parts << backend_display_name(backend);
  if (!device.empty()) parts << QString::fromStdString(device);
  return parts.join(QStringLiteral(" · "));
}

int MessageListModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

QVariant MessageListModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const MessageRow& row = rows_[static_cast<std::size_t>(index.row())];
  const storage::MessageRecord& m = row.record;
  switch (role) {
    case IdRole: return QVariant::fromValue<qint64>(m.id);
    case RoleRole: return QString::fromLatin1(storage::to_string(m.role));
    case Qt::DisplayRole:
    case ContentRole: return QString::fromStdString(m.content);
    case ReasoningRole: return QString::fromStdString(m.reasoning);
    case ReasoningPiecesRole: return split_plain_text(QString::fromStdString(m.reasoning));
    case BlocksRole: {
      QVariantList list;
      for (const MarkdownBlock& b : split_markdown(QString::fromStdString(m.content))) {
        // A table's cells as one string, for the view's ListModel (which
        // holds strings, not lists of lists): cells end at U+001F, rows at
        // U+001E; no Markdown cell holds either.
        QString cells;
        for (const QStringList& row : b.rows) cells += row.join(QChar(0x1f)) + QChar(0x1e);
        cells.chop(1);
        const char* kind = b.kind == MarkdownBlock::Code ? "code" : b.kind == MarkdownBlock::Table ? "table" : "prose";
        list << QVariantMap{{"kind", kind},          {"text", b.text},   {"language", b.language}, {"continues", b.continues_list},
                            {"marker", b.marker},    {"cells", cells},   {"align", b.align}};
      }
      return list;
    }
    case StatusRole: return QString::fromLatin1(storage::to_string(m.status));
    case InterruptedRole: return m.interrupted;
    case StreamingRole: return row.streaming;
    case ThinkingMsRole: return row.thinking_ms;
    case StatsLineRole:
      if (m.role != storage::Role::Assistant || row.streaming) return QString();
      return stats_line(m.stats.decode_tokens_per_s.value_or(0), m.stats.ttft_ms.value_or(0),
                        m.stats.generated_tokens.value_or(0), m.stats.backend, m.stats.device);
    case SiblingIndexRole: return row.sibling_index;
    case SiblingCountRole: return row.sibling_count;
    case ErrorRole: return QString::fromStdString(m.error);
  }
  return {};
}

QHash<int, QByteArray> MessageListModel::roleNames() const {
  return {{IdRole, "messageId"},         {RoleRole, "role"},           {ContentRole, "content"},
          {ReasoningRole, "reasoning"},  {BlocksRole, "blocks"},       {StatusRole, "status"},
          {InterruptedRole, "interrupted"}, {StreamingRole, "streaming"}, {ThinkingMsRole, "thinkingMs"},
          {StatsLineRole, "statsLine"},  {SiblingIndexRole, "siblingIndex"}, {SiblingCountRole, "siblingCount"},
          {ErrorRole, "errorText"}, {ReasoningPiecesRole, "reasoningPieces"}};
}

void MessageListModel::set_rows(std::vector<MessageRow> rows) {
  const std::size_t old_count = rows_.size();
  std::size_t kept = 0;  // rows that stay: the same message at the same place
  while (kept < rows_.size() && kept < rows.size() && rows_[kept].record.id == rows[kept].record.id) ++kept;
  if (kept == 0) {  // another conversation (or none): nothing to keep
    beginResetModel();
    rows_ = std::move(rows);
    endResetModel();
  } else {
    if (rows_.size() > kept) {
      beginRemoveRows({}, static_cast<int>(kept), static_cast<int>(rows_.size()) - 1);
      rows_.resize(kept);
      endRemoveRows();
    }
    for (std::size_t i = 0; i < kept; ++i) {
      if (rows_[i] == rows[i]) continue;
      rows_[i] = std::move(rows[i]);
      emit dataChanged(index(static_cast<int>(i)), index(static_cast<int>(i)));
    }
    if (rows.size() > kept) {
      beginInsertRows({}, static_cast<int>(kept), static_cast<int>(rows.size()) - 1);
      rows_.insert(rows_.end(), std::make_move_iterator(rows.begin() + static_cast<std::ptrdiff_t>(kept)),
                   std::make_move_iterator(rows.end()));
      endInsertRows();
    }
  }
  if (rows_.size() != old_count) emit countChanged();
}

void MessageListModel::append_row(MessageRow row) {
  const int at = static_cast<int>(rows_.size());
  beginInsertRows({}, at, at);
  rows_.push_back(std::move(row));
  endInsertRows();
  emit countChanged();
}

void MessageListModel::update_last(const std::function<void(MessageRow&)>& change, const QList<int>& roles) {
  if (rows_.empty()) return;
  change(rows_.back());
  const QModelIndex last = index(static_cast<int>(rows_.size()) - 1);
  emit dataChanged(last, last, roles);
}

}  // namespace ossdesk::gui

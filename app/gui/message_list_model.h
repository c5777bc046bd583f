// The chat view: the visible thread of the current conversation (root to
// leaf), with each message's branch position (‹ 2/3 ›), its Markdown split
// into prose and code blocks, and its stats line. While an answer streams its
// row is updated in place (content, reasoning, thinking time), at most once
// per frame by the ChatController; when it finishes, the thread read again
// changes only the rows that differ (set_rows).
#pragma once

#include <QAbstractListModel>
#include <QtQml/qqmlregistration.h>

#include <functional>
#include <vector>

#include "ossdesk/storage/types.h"

namespace ossdesk::gui {

struct MessageRow {
  storage::MessageRecord record;
  int sibling_index = 0;  // 0-based position among the alternatives
  int sibling_count = 1;
  bool streaming = false;
  double thinking_ms = 0;  // live while streaming; else the stored stats
  bool operator==(const MessageRow&) const = default;
};

// "52.3 tok/s · TTFT 0.41 s · 812 tokens · Vulkan · RTX 4090"; empty pieces are left out.
QString stats_line(double tokens_per_s, double ttft_ms, long long tokens, const std::string& backend,
                   const std::string& device);
QString backend_display_name(const std::string& backend);

class MessageListModel : public QAbstractListModel {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("made by ChatController")
  Q_PROPERTY(int count READ rowCount NOTIFY countChanged)

 public:
  enum Role {
    IdRole = Qt::UserRole + 1, RoleRole, ContentRole, ReasoningRole, BlocksRole, StatusRole, InterruptedRole,
    StreamingRole, ThinkingMsRole, StatsLineRole, SiblingIndexRole, SiblingCountRole, ErrorRole, ReasoningPiecesRole
  };
  explicit MessageListModel(QObject* parent = nullptr) : QAbstractListModel(parent) {}

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QHash<int, QByteArray> roleNames() const override;

  // Shows `rows` (the thread read again after a change). The leading rows
  // that are still the same messages are updated in place, and only where
  // something changed; the rest are removed and the new ones inserted. So
  // when an answer finishes, or a message is sent or regenerated, the views
  // of the messages before keep their state (a reasoning opened by hand, a
  // selection, where the user scrolled to). Another conversation resets.
  void set_rows(std::vector<MessageRow> rows);
  void append_row(MessageRow row);
  // Changes the last row and tells the view which roles moved.
  void update_last(const std::function<void(MessageRow&)>& change, const QList<int>& roles);
  const std::vector<MessageRow>& rows() const { return rows_; }

 signals:
  void countChanged();

 private:
  std::vector<MessageRow> rows_;
};

}  // namespace ossdesk::gui

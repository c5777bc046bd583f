// The sidebar: conversations, pinned first, then by last activity, each with
// the date group it is shown under (Pinned, Today, Yesterday, Previous 7
// days, Previous 30 days, Older). Filled from storage by the ChatController;
// a conversation waiting for its delete to become final is hidden.
#pragma once

#include <QAbstractListModel>
#include <QDateTime>
#include <QtQml/qqmlregistration.h>

#include <vector>

#include "ossdesk/storage/conversations.h"

namespace ossdesk::gui {

class ConversationListModel : public QAbstractListModel {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("made by ChatController")
  Q_PROPERTY(int count READ rowCount NOTIFY countChanged)

 public:
  enum Role { IdRole = Qt::UserRole + 1, TitleRole, PinnedRole, UpdatedRole, SectionRole, MessageCountRole, InterruptedRole };
  explicit ConversationListModel(QObject* parent = nullptr) : QAbstractListModel(parent) {}

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QHash<int, QByteArray> roleNames() const override;

  // Shows `rows` (the list read again after a change) by removing, moving,
  // inserting and changing rows, never by a reset: so the sidebar keeps where
  // it was scrolled to, an open menu, and a title being renamed in place,
  // when an answer finishes and its conversation moves to the top.
  void set_conversations(std::vector<storage::ConversationSummary> rows);
  int row_of(qint64 id) const;  // -1 when absent
  const storage::ConversationSummary* find(qint64 id) const;
  // The date group of a conversation last active at `updated_ms`, seen at `now`.
  static QString section_for(qint64 updated_ms, bool pinned, const QDateTime& now);

 signals:
  void countChanged();

 private:
  std::vector<storage::ConversationSummary> rows_;
};

}  // namespace ossdesk::gui

// Search results for the sidebar's search field: conversations whose title
// or messages match every word typed (storage's FTS5 search), with a snippet.
#pragma once

#include <QAbstractListModel>
#include <QtQml/qqmlregistration.h>

#include <vector>

#include "ossdesk/storage/search.h"

namespace ossdesk::gui {

class SearchModel : public QAbstractListModel {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("made by ChatController")
  Q_PROPERTY(int count READ rowCount NOTIFY countChanged)

 public:
  enum Role { ConversationIdRole = Qt::UserRole + 1, MessageIdRole, TitleRole, SnippetRole };
  explicit SearchModel(QObject* parent = nullptr) : QAbstractListModel(parent) {}

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QHash<int, QByteArray> roleNames() const override;
  void set_hits(std::vector<storage::SearchHit> hits);

 signals:
  void countChanged();

 private:
  std::vector<storage::SearchHit> hits_;
};

}  // namespace ossdesk::gui

// The app's settings, kept in the history file's settings table (keys
// "app.*") so one file holds everything and one backup restores it. Every
// setter writes through at once; a value that cannot be read back as its type
// falls back to the default.
#pragma once

#include <QObject>
#include <QVariant>
#include <QtQml/qqmlregistration.h>

namespace ossdesk::storage {
class Database;
}

namespace ossdesk::gui {

class AppSettings : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("made by main()")
  Q_PROPERTY(QString modelsFolder READ modelsFolder WRITE setModelsFolder NOTIFY changed)
  Q_PROPERTY(QString lastModel READ lastModel WRITE setLastModel NOTIFY changed)
  Q_PROPERTY(QString backend READ backend WRITE setBackend NOTIFY changed)  // auto | vulkan | cuda | cpu
  Q_PROPERTY(QString device READ device WRITE setDevice NOTIFY changed)     // index or name; empty = best
  Q_PROPERTY(int contextLength READ contextLength WRITE setContextLength NOTIFY changed)
  Q_PROPERTY(double temperature READ temperature WRITE setTemperature NOTIFY changed)
  Q_PROPERTY(double topP READ topP WRITE setTopP NOTIFY changed)
  Q_PROPERTY(int maxTokens READ maxTokens WRITE setMaxTokens NOTIFY changed)  // longest answer, reasoning included
  Q_PROPERTY(QString defaultEffort READ defaultEffort WRITE setDefaultEffort NOTIFY changed)  // low | medium | high
  Q_PROPERTY(QString theme READ theme WRITE setTheme NOTIFY changed)  // system | light | dark
  Q_PROPERTY(int fontSize READ fontSize WRITE setFontSize NOTIFY changed)

 public:
  AppSettings(storage::Database& db, QObject* parent = nullptr);

  QString modelsFolder() const { return text("modelsFolder"); }
  QString lastModel() const { return text("lastModel"); }
  QString backend() const { return text("backend"); }
  QString device() const { return text("device"); }
  int contextLength() const { return values_.value("contextLength").toInt(); }
  double temperature() const { return values_.value("temperature").toDouble(); }
  double topP() const { return values_.value("topP").toDouble(); }
  int maxTokens() const { return values_.value("maxTokens").toInt(); }
  QString defaultEffort() const { return text("defaultEffort"); }
  QString theme() const { return text("theme"); }
  int fontSize() const { return values_.value("fontSize").toInt(); }

  void setModelsFolder(const QString& v) { write("modelsFolder", v); }
  void setLastModel(const QString& v) { write("lastModel", v); }
  void setBackend(const QString& v);
  void setDevice(const QString& v) { write("device", v); }
  void setContextLength(int v) { write("contextLength", qBound(256, v, 131072)); }
  void setTemperature(double v) { write("temperature", qBound(0.0, v, 2.0)); }
  void setTopP(double v) { write("topP", qBound(0.0, v, 1.0)); }
  void setMaxTokens(int v) { write("maxTokens", qBound(16, v, 131072)); }
  void setDefaultEffort(const QString& v);
  void setTheme(const QString& v);
  void setFontSize(int v) { write("fontSize", qBound(9, v, 28)); }

 signals:
  void changed();

 private:
  QString text(const char* key) const { return values_.value(key).toString(); }
  void write(const char* key, const QVariant& value);

  storage::Database& db_;
  QVariantMap values_;
};

}  // namespace ossdesk::gui

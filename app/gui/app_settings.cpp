#include "app_settings.h"

#include "ossdesk/storage/error.h"
#include "ossdesk/storage/settings.h"

namespace ossdesk::gui {
namespace {

const QVariantMap& defaults() {
  static const QVariantMap d = {
      {"modelsFolder", QString()}, {"lastModel", QString()},    {"backend", QStringLiteral("auto")},
      {"device", QString()},       {"contextLength", 8192},     {"temperature", 1.0},
      {"topP", 1.0},               {"maxTokens", 8192},               {"defaultEffort", QStringLiteral("medium")}, {"theme", QStringLiteral("system")},
      {"fontSize", 14}};
  return d;
}

}  // namespace

AppSettings::AppSettings(storage::Database& db, QObject* parent) : QObject(parent), db_(db) {
  for (auto it = defaults().begin(); it != defaults().end(); ++it) {
    QVariant value = it.value();
    const auto stored = storage::get_setting(db_, "app." + it.key().toStdString());
    if (stored) {
      QVariant v = QString::fromStdString(*stored);
      if (v.convert(it.value().metaType())) value = v;  // unreadable: keep the default
    }
    values_.insert(it.key(), value);
  }
}

void AppSettings::write(const char* key, const QVariant& value) {
  if (values_.value(key) == value) return;
  values_.insert(key, value);
  storage::set_setting(db_, std::string("app.") + key, value.toString().toStdString());
  emit changed();
}

void AppSettings::setBackend(const QString& v) {
  if (v == "auto" || v == "vulkan" || v == "cuda" || v == "cpu") write("backend", v);
}

void AppSettings::setDefaultEffort(const QString& v) {
  if (v == "low" || v == "medium" || v == "high") write("defaultEffort", v);
}

void AppSettings::setTheme(const QString& v) {
  if (v == "system" || v == "light" || v == "dark") write("theme", v);
}

}  // namespace ossdesk::gui

#include "model_controller.h"

#include <QFileInfo>
#include <QMetaObject>
#include <QPointer>
#include <QUrl>

#include "app_settings.h"
#include "message_list_model.h"

namespace ossdesk::gui {

namespace {

// What in the settings a load depends on.
QString load_settings_key(const AppSettings& s) {
  return s.backend() + '|' + s.device() + '|' + QString::number(s.contextLength());
}

}  // namespace

ModelController::ModelController(AppSettings& settings, EngineFactory factory, QObject* parent)
    : QObject(parent), settings_(settings), factory_(std::move(factory)) {
  connect(&settings_, &AppSettings::changed, this, &ModelController::reloadNeededChanged);
  connect(this, &ModelController::stateChanged, this, &ModelController::reloadNeededChanged);
  // Twice a second is enough for a read that takes seconds to minutes.
  weights_poll_.setInterval(500);
  connect(&weights_poll_, &QTimer::timeout, this, [this] { refresh_weights(false); });
}

bool ModelController::reloadNeeded() const { return engine_ && loaded_with_ != load_settings_key(settings_); }

ModelController::~ModelController() {
  if (cancel_) cancel_->store(true);
  join_loader();
  if (engine_) emit aboutToUnload();
  engine_.reset();
}

QString ModelController::modelName() const {
  if (path_.isEmpty()) return {};
  const QFileInfo info(path_);
  return info.isDir() ? info.fileName() : info.completeBaseName();
}
QString ModelController::backendName() const { return engine_ ? backend_display_name(engine_->backend_name()) : QString(); }
QString ModelController::deviceName() const { return engine_ ? QString::fromStdString(engine_->device_name()) : QString(); }
QString ModelController::backendReason() const { return engine_ ? QString::fromStdString(engine_->backend_reason()) : QString(); }
QString ModelController::backendFallback() const {
  return engine_ ? QString::fromStdString(engine_->backend_fallback()) : QString();
}
QString ModelController::weightsPlace() const {
  return engine_ ? QString::fromUtf8(to_string(weights_.place)) : QString();
}
double ModelController::weightsProgress() const {
  return weights_.bytes > 0 ? static_cast<double>(weights_.bytes_read) / static_cast<double>(weights_.bytes) : 0.0;
}

void ModelController::refresh_weights(bool engine_changed) {
  WeightsStatus now = engine_ ? engine_->weights_status() : WeightsStatus{};
  const bool changed = engine_changed || now.place != weights_.place || now.bytes_read != weights_.bytes_read || now.note != weights_.note;
  weights_ = std::move(now);
  if (engine_ && weights_.place == WeightsPlace::Reading) {
    if (!weights_poll_.isActive()) weights_poll_.start();
  } else {
    weights_poll_.stop();
  }
  if (changed) emit weightsChanged();
}

int ModelController::contextLength() const { return engine_ ? engine_->context_length() : 0; }

QStringList ModelController::backends() const {
  QStringList out{QStringLiteral("auto")};
  for (const std::string& b : backend_names()) out << QString::fromStdString(b);
  return out;
}

QVariantList ModelController::devices(const QString& backend) const {
  QVariantList out;
  if (backend == "auto") return out;
  std::string why;
  for (const DeviceEntry& d : available_devices(backend.toStdString(), false, &why)) {
    const QString detail = d.memory_bytes ? QStringLiteral("%1, %2 GiB").arg(QString::fromStdString(d.type)).arg(
                                                static_cast<double>(d.memory_bytes) / (1ull << 30), 0, 'f', 1)
                                          : QString::fromStdString(d.type);
    out << QVariantMap{{"index", d.index}, {"name", QString::fromStdString(d.name)}, {"detail", detail}};
  }
  return out;
}

QString ModelController::explain(const Error& e) {
  const QString what = QString::fromUtf8(e.what());
  switch (e.kind()) {
    case ErrorKind::OutOfMemory:
      return tr("The model does not fit: %1\nTry a shorter context length in Settings, another backend, or a smaller model.").arg(what);
    case ErrorKind::BadInput:
    case ErrorKind::Unsupported:
      return tr("This model cannot be used: %1\nOpen a gpt-oss model: a .gguf file or a Hugging Face folder with config.json.").arg(what);
    case ErrorKind::Io: return tr("The model could not be read: %1\nCheck that the file exists and is readable.").arg(what);
    case ErrorKind::Cancelled: return tr("Loading was cancelled.");
    case ErrorKind::Internal: return tr("Something went wrong inside ossdesk: %1").arg(what);
  }
  return what;
}

void ModelController::set_state(const QString& s) {
  state_ = s;
  emit stateChanged();
}

void ModelController::join_loader() {
  if (loader_.joinable()) loader_.join();
}

void ModelController::load(const QString& path_or_url) {
  const QUrl url(path_or_url);
  const QString path = url.isLocalFile() ? url.toLocalFile() : path_or_url;
  if (path.isEmpty()) return;
  if (cancel_) cancel_->store(true);
  join_loader();
  unload();
  path_ = path;
  error_.clear();
  progress_ = 0;
  stage_ = tr("Opening %1").arg(QFileInfo(path).fileName());
  emit progressChanged();
  set_state(QStringLiteral("loading"));

  loaded_with_ = load_settings_key(settings_);
  EngineOptions options;
  options.backend = settings_.backend().toStdString();
  options.context_length = settings_.contextLength();
  const QString device = settings_.device();
  bool numeric = false;
  const int index = device.toInt(&numeric);
  if (numeric) options.device_index = index;
  else options.device_name = device.toStdString();
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  const quint64 generation = ++generation_;
  QPointer<ModelController> self(this);
  auto cancel = cancel_;
  loader_ = std::thread([self, factory = factory_, file = path.toStdString(), options, cancel, generation] {
    std::unique_ptr<ChatEngine> engine;
    QString error;
    bool cancelled = false;
    auto progress = [self, generation](double fraction, const std::string& stage) {
      QMetaObject::invokeMethod(self, [self, fraction, stage = QString::fromStdString(stage), generation] {
        if (!self || generation != self->generation_) return;
        self->progress_ = fraction;
        self->stage_ = stage;
        emit self->progressChanged();
      }, Qt::QueuedConnection);
    };
    try {
      engine = factory(file, options, progress, cancel.get());
    } catch (const Error& e) {
      cancelled = e.kind() == ErrorKind::Cancelled;
      error = explain(e);
    } catch (const std::exception& e) {
      error = tr("The model could not be loaded: %1").arg(QString::fromUtf8(e.what()));
    }
    // The engine travels in a shared_ptr holder so a result nobody takes (the
    // controller is gone) is still destroyed.
    auto holder = std::make_shared<std::unique_ptr<ChatEngine>>(std::move(engine));
    QMetaObject::invokeMethod(self, [self, holder, error, cancelled, generation] {
      if (self) self->finish_load(std::move(*holder), error, cancelled, generation);
    }, Qt::QueuedConnection);
  });
}

void ModelController::finish_load(std::unique_ptr<ChatEngine> engine, const QString& error, bool cancelled, quint64 generation) {
  if (generation != generation_) return;  // superseded by a later load or unload
  join_loader();
  if (!engine) {
    error_ = cancelled ? QString() : error;
    if (cancelled) path_.clear();
    set_state(cancelled ? QStringLiteral("empty") : QStringLiteral("error"));
    return;
  }
  engine_ = std::move(engine);
  progress_ = 1;
  emit progressChanged();
  settings_.setLastModel(path_);
  set_state(QStringLiteral("ready"));
  emit engineChanged();
  refresh_weights(true);
}

void ModelController::cancelLoad() {
  if (cancel_) cancel_->store(true);
}

void ModelController::unload() {
  if (!engine_) return;
  emit aboutToUnload();
  engine_.reset();
  ++generation_;
  emit engineChanged();
  refresh_weights(true);
  set_state(QStringLiteral("empty"));
}

}  // namespace ossdesk::gui

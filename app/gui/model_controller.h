// The loaded model: opening a file or folder, loading it on a worker thread
// with progress and cancel, which backend and device run it and why, and
// load errors in plain words with what to do. Owns the ChatEngine; the
// ChatController is told when it appears or goes (engineChanged).
#pragma once

#include <QObject>
#include <QStringList>
#include <QTimer>
#include <QVariantList>
#include <QtQml/qqmlregistration.h>

#include <atomic>
#include <memory>
#include <thread>

#include "chat_engine.h"

namespace ossdesk::gui {

class AppSettings;

class ModelController : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("made by main()")
  Q_PROPERTY(QString state READ state NOTIFY stateChanged)  // empty | loading | ready | error
  Q_PROPERTY(double progress READ progress NOTIFY progressChanged)
  Q_PROPERTY(QString stage READ stage NOTIFY progressChanged)
  Q_PROPERTY(QString modelPath READ modelPath NOTIFY stateChanged)
  Q_PROPERTY(QString modelName READ modelName NOTIFY stateChanged)
  Q_PROPERTY(QString backendName READ backendName NOTIFY stateChanged)  // "Vulkan", "CPU", ...
  Q_PROPERTY(QString deviceName READ deviceName NOTIFY stateChanged)
  Q_PROPERTY(QString backendReason READ backendReason NOTIFY stateChanged)
  // Set when auto runs the model off the GPU because a GPU backend could not
  // take it (too little memory, ...): what failed, shown under the model bar.
  Q_PROPERTY(QString backendFallback READ backendFallback NOTIFY stateChanged)
  // Where the weights are read from: "" (no model), "device", "reading" (the
  // CPU reads them into memory in the background; weightsProgress 0..1),
  // "memory", or "disk" (too big for free memory; weightsNote says so).
  Q_PROPERTY(QString weightsPlace READ weightsPlace NOTIFY weightsChanged)
  Q_PROPERTY(double weightsProgress READ weightsProgress NOTIFY weightsChanged)
  Q_PROPERTY(QString weightsNote READ weightsNote NOTIFY weightsChanged)
  Q_PROPERTY(QString errorText READ errorText NOTIFY stateChanged)
  Q_PROPERTY(int contextLength READ contextLength NOTIFY stateChanged)
  Q_PROPERTY(QStringList backends READ backends CONSTANT)  // "auto" first, then what this build has
  // The backend, device or context length in the settings changed since the load.
  Q_PROPERTY(bool reloadNeeded READ reloadNeeded NOTIFY reloadNeededChanged)

 public:
  ModelController(AppSettings& settings, EngineFactory factory, QObject* parent = nullptr);
  ~ModelController() override;

  QString state() const { return state_; }
  double progress() const { return progress_; }
  QString stage() const { return stage_; }
  QString modelPath() const { return path_; }
  QString modelName() const;
  QString backendName() const;
  QString deviceName() const;
  QString backendReason() const;
  QString backendFallback() const;
  QString weightsPlace() const;
  double weightsProgress() const;
  QString weightsNote() const { return QString::fromStdString(weights_.note); }
  QString errorText() const { return error_; }
  int contextLength() const;
  QStringList backends() const;
  ChatEngine* engine() const { return engine_.get(); }
  bool reloadNeeded() const;

  // Loads `path` (a file path or file:// URL) with the backend, device and
  // context from the settings. A model already loaded is unloaded first.
  Q_INVOKABLE void load(const QString& path);
  Q_INVOKABLE void cancelLoad();
  Q_INVOKABLE void reload() { load(path_); }  // with the current settings
  Q_INVOKABLE void unload();
  // Devices of a backend for the settings' device picker: [{index, name, detail}].
  Q_INVOKABLE QVariantList devices(const QString& backend) const;
  // A load error in plain words, with what to do.
  static QString explain(const Error& e);

 signals:
  void stateChanged();
  void progressChanged();
  void engineChanged();       // engine() appeared or is about to go (engine() is null then)
  void aboutToUnload();       // generation must stop now; the engine goes right after
  void reloadNeededChanged();
  void weightsChanged();

 private:
  void finish_load(std::unique_ptr<ChatEngine> engine, const QString& error, bool cancelled, quint64 generation);
  void join_loader();
  void set_state(const QString& s);
  // Reads the engine's weights status (weightsChanged when it or the engine
  // changed); polls while it is Reading.
  void refresh_weights(bool engine_changed);

  AppSettings& settings_;
  EngineFactory factory_;
  std::unique_ptr<ChatEngine> engine_;
  std::thread loader_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  quint64 generation_ = 0;  // load attempts, so a stale result is dropped
  QString state_ = QStringLiteral("empty");
  double progress_ = 0;
  QString stage_, path_, error_;
  QString loaded_with_;  // the settings the engine was loaded with (see load_settings_key)
  WeightsStatus weights_;
  QTimer weights_poll_;
};

}  // namespace ossdesk::gui

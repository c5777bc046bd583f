// The app's C++ side wired as main() wires it, on a history file in a fresh
// scratch folder, with an engine factory chosen by the test.
#pragma once

#include <QSignalSpy>
#include <QTest>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

#include "app_settings.h"
#include "chat_controller.h"
#include "model_controller.h"
#include "ossdesk/storage/database.h"
#include "scratch_dir.h"

namespace ossdesk::test {

struct AppUnderTest {
  std::filesystem::path dir;
  std::optional<storage::Database> db;
  std::unique_ptr<gui::AppSettings> settings;
  std::unique_ptr<gui::ModelController> models;
  std::unique_ptr<gui::ChatController> chat;

  // `prepare` may write a history file into the folder before the app opens it.
  AppUnderTest(const std::string& name, gui::EngineFactory factory,
               const std::function<void(const std::filesystem::path&)>& prepare = {})
      : dir(scratch_dir(name)) {
    if (prepare) prepare(dir / "history.sqlite3");
    db.emplace(storage::Database::open(dir / "history.sqlite3"));
    settings = std::make_unique<gui::AppSettings>(*db);
    models = std::make_unique<gui::ModelController>(*settings, std::move(factory));
    chat = std::make_unique<gui::ChatController>(*db, *settings, *models);
  }
  ~AppUnderTest() {
    chat.reset();
    models.reset();
  }
  // Loads through the ModelController and waits for the engine.
  bool load(const QString& path = QStringLiteral("/models/scripted.gguf"), int timeout_ms = 60000) {
    models->load(path);
    return QTest::qWaitFor([&] { return models->state() != "loading"; }, timeout_ms) && models->state() == "ready";
  }
  bool wait_idle(int timeout_ms = 60000) {
    return QTest::qWaitFor([&] { return !chat->busy(); }, timeout_ms);
  }
};

}  // namespace ossdesk::test

// What the app needs from a loaded model: one chat session that streams
// events, and the names to show. The real implementation wraps
// ossdesk::Engine; tests script their own (a fake that streams a harmony
// answer) so the controllers are tested without a model.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "ossdesk/engine.h"

namespace ossdesk::gui {

class ChatEngine {
 public:
  virtual ~ChatEngine() = default;
  virtual std::string backend_name() const = 0;
  virtual std::string backend_reason() const = 0;  // why this backend (auto choice, fallback)
  virtual std::string backend_fallback() const = 0;  // what a GPU backend tried first could not do; "" if none failed
  virtual std::string device_name() const = 0;
  virtual int context_length() const = 0;
  // Where the weights are read from; changes while the CPU backend reads them
  // into memory after the load. Called on the UI thread.
  virtual WeightsStatus weights_status() const = 0;
  // Starts one turn. on_event runs on the engine's thread and must not block;
  // Done (or Error then Done) comes last. One turn at a time.
  virtual void submit(const Conversation& conversation, const GenerationSettings& settings,
                      std::function<void(const Event&)> on_event) = 0;
  virtual void cancel() = 0;  // the running turn stops after its current token
  virtual void wait() = 0;    // blocks until the running turn has delivered Done
};

using LoadProgress = std::function<void(double fraction, const std::string& stage)>;

// Loads a model; runs on a worker thread. Throws ossdesk::Error.
using EngineFactory = std::function<std::unique_ptr<ChatEngine>(
    const std::string& path, const EngineOptions& options, const LoadProgress& progress, const std::atomic<bool>* cancel)>;

// The factory for ossdesk::Engine.
EngineFactory real_engine_factory();

}  // namespace ossdesk::gui

// What stands behind ossdesk::Engine: the model, its backend, the KV sequence
// and the engine thread that runs every request in order.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "backends/backend.h"
#include "model/model.h"
#include "ossdesk/engine.h"
#include "runtime/generator.h"
#include "tokenizer/tokenizer.h"

namespace ossdesk {

class EngineImpl {
 public:
  EngineImpl(std::unique_ptr<Model> model, std::unique_ptr<Backend> backend, BackendChoice choice);
  ~EngineImpl();  // finishes queued work, joins the thread

  // Runs `job` on the engine thread after the jobs before it.
  void post(std::function<void()> job);

  const Model& model() const { return *model_; }
  const Tokenizer& tokenizer() const;  // throws when the model has none
  Backend& backend() { return *backend_; }
  KvSequence& sequence() { return sequence_; }

  ModelSummary summary;
  BackendChoice choice;

 private:
  void run();

  std::unique_ptr<Model> model_;
  std::unique_ptr<Backend> backend_;
  KvSequence sequence_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

// One assistant turn: render, generate, parse harmony, emit events. Runs on
// the engine thread.
void run_chat_turn(EngineImpl& engine, const Conversation& conversation, const GenerationSettings& settings,
                   const std::atomic<bool>& cancel, const EventCallback& emit);

// The backend settings an EngineOptions asks for (context length as given).
BackendOptions to_backend_options(const EngineOptions& options);

// The conversation with `effort` in its system message (a default system
// message is added when it has none).
Conversation with_reasoning_effort(Conversation conversation, ReasoningEffort effort);

}  // namespace ossdesk

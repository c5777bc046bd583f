#include "chat_engine.h"

namespace ossdesk::gui {
namespace {

// One Engine with one ChatSession: the session keeps the KV cache, so a
// follow-up turn prefills only what is new.
class RealChatEngine final : public ChatEngine {
 public:
  explicit RealChatEngine(std::unique_ptr<Engine> engine) : engine_(std::move(engine)), session_(engine_->create_session()) {}
  ~RealChatEngine() override {
    session_->cancel();
    session_->wait();
  }
  std::string backend_name() const override { return engine_->backend_name(); }
  std::string backend_reason() const override { return engine_->backend_reason(); }
  std::string backend_fallback() const override { return engine_->backend_fallback(); }
  std::string device_name() const override { return engine_->device_name(); }
  int context_length() const override { return engine_->context_length(); }
  WeightsStatus weights_status() const override { return engine_->weights_status(); }
  void submit(const Conversation& c, const GenerationSettings& s, std::function<void(const Event&)> on_event) override {
    session_->submit(c, s, std::move(on_event));
  }
  void cancel() override { session_->cancel(); }
  void wait() override { session_->wait(); }

 private:
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ChatSession> session_;
};

}  // namespace

EngineFactory real_engine_factory() {
  return [](const std::string& path, const EngineOptions& options, const LoadProgress& progress,
            const std::atomic<bool>* cancel) -> std::unique_ptr<ChatEngine> {
    return std::make_unique<RealChatEngine>(Engine::load(path, options, progress, cancel));
  };
}

}  // namespace ossdesk::gui

// A scripted ChatEngine for the app's tests: each turn streams the script's
// analysis pieces as ReasoningDelta, then its final pieces as FinalDelta, from
// its own thread like the real engine, then Stats and Done. cancel() stops it
// after the current piece (Done: Cancelled). It records what it was given, so
// tests can check what reached the model (the reasoning effort, the thread).
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chat_engine.h"

namespace ossdesk::test {

struct FakeScript {
  std::vector<std::string> analysis{"Let me ", "think ", "about ", "this."};
  std::vector<std::string> final{"Here ", "is ", "the ", "**answer**."};
  std::chrono::milliseconds delay{2};  // between pieces
};

class FakeChatEngine final : public gui::ChatEngine {
 public:
  explicit FakeChatEngine(FakeScript script = {}) : script_(std::move(script)) {}
  ~FakeChatEngine() override {
    cancel();
    wait();
  }
  std::string backend_name() const override { return "cpu"; }
  std::string backend_reason() const override { return fallback_.empty() ? "requested" : "no GPU could take it"; }
  std::string backend_fallback() const override { return fallback_; }
  std::string device_name() const override { return "Scripted test engine"; }
  int context_length() const override { return 4096; }
  WeightsStatus weights_status() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return weights_;
  }

  void submit(const Conversation& conversation, const GenerationSettings& settings,
              std::function<void(const Event&)> on_event) override {
    wait();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      conversations_.push_back(conversation);
      settings_.push_back(settings);
    }
    cancel_ = false;
    const FakeScript script = script_;
    thread_ = std::thread([this, script, on_event] {
      int tokens = 0;
      bool cancelled = false;
      auto stream = [&](const std::vector<std::string>& pieces, EventType type) {
        for (const std::string& piece : pieces) {
          if (cancel_) return cancelled = true, void();
          Event e(type);
          e.text = piece;
          on_event(e);
          ++tokens;
          std::this_thread::sleep_for(script.delay);
        }
      };
      stream(script.analysis, EventType::ReasoningDelta);
      if (!cancelled) stream(script.final, EventType::FinalDelta);
      Event stats(EventType::Stats);
      stats.stats.generated_tokens = tokens;
      stats.stats.reasoning_tokens = static_cast<int>(script.analysis.size());
      stats.stats.ttft_ms = 12.5;
      stats.stats.decode_tokens_per_s = 123.4;
      stats.stats.backend = "cpu";
      stats.stats.device = "Scripted test engine";
      on_event(stats);
      Event done(EventType::Done);
      done.finish = cancelled ? FinishReason::Cancelled : FinishReason::Complete;
      on_event(done);
    });
  }
  void cancel() override { cancel_ = true; }
  void wait() override {
    if (thread_.joinable()) thread_.join();
  }
  void set_script(FakeScript script) { script_ = std::move(script); }
  // What the next loads report a GPU backend could not do ("" : nothing failed).
  void set_fallback(std::string fallback) { fallback_ = std::move(fallback); }
  // Where the weights are from now on (a loaded app polls it while Reading).
  void set_weights(WeightsStatus status) {
    std::lock_guard<std::mutex> lock(mutex_);
    weights_ = std::move(status);
  }
  std::vector<Conversation> conversations() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return conversations_;
  }
  std::vector<GenerationSettings> settings() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return settings_;
  }

 private:
  FakeScript script_;
  std::string fallback_;
  WeightsStatus weights_;  // guarded by mutex_
  std::thread thread_;
  std::atomic<bool> cancel_{false};
  mutable std::mutex mutex_;
  std::vector<Conversation> conversations_;
  std::vector<GenerationSettings> settings_;
};

// A factory that hands out `engine` (owned by the test) through a forwarding
// wrapper, so the test keeps a pointer to the fake while the app owns "its" engine.
inline gui::EngineFactory factory_for(FakeChatEngine* engine) {
  struct Forward final : gui::ChatEngine {
    FakeChatEngine* e;
    explicit Forward(FakeChatEngine* f) : e(f) {}
    ~Forward() override { e->cancel(), e->wait(); }
    std::string backend_name() const override { return e->backend_name(); }
    std::string backend_reason() const override { return e->backend_reason(); }
    std::string backend_fallback() const override { return e->backend_fallback(); }
    std::string device_name() const override { return e->device_name(); }
    int context_length() const override { return e->context_length(); }
    WeightsStatus weights_status() const override { return e->weights_status(); }
    void submit(const Conversation& c, const GenerationSettings& s, std::function<void(const Event&)> cb) override {
      e->submit(c, s, std::move(cb));
    }
    void cancel() override { e->cancel(); }
    void wait() override { e->wait(); }
  };
  return [engine](const std::string&, const EngineOptions&, const gui::LoadProgress& progress,
                  const std::atomic<bool>*) -> std::unique_ptr<gui::ChatEngine> {
    if (progress) progress(0.5, "scripted load");
    return std::make_unique<Forward>(engine);
  };
}

}  // namespace ossdesk::test

// The public engine API (ossdesk/engine.h) end to end on a tiny synthetic
// model with the real tokenizer: event order, stats, KV reuse between turns,
// cancel, seeded sampling, errors as events; and the mapping from harmony
// output to events with a scripted backend that "generates" a known turn.
#include <QtTest>
#include <mutex>

#include "backends/backend.h"
#include "harmony/renderer.h"
#include "ossdesk/engine.h"
#include "runtime/engine_impl.h"
#include "tiny_model.h"

using namespace ossdesk;

namespace {

struct Collected {
  std::mutex mutex;
  std::vector<Event> events;
  std::string of(EventType t) {
    std::string s;
    for (const auto& e : events)
      if (e.type == t) s += e.text;
    return s;
  }
};

Conversation ask(const std::string& text) {
  Conversation c;
  c.system = SystemSpec{};
  c.messages.push_back({"user", text, "", "", "", ""});
  return c;
}

void run(ChatSession& s, const Conversation& c, const GenerationSettings& g, Collected& out) {
  s.submit(c, g, [&](const Event& e) {
    std::lock_guard<std::mutex> lock(out.mutex);
    out.events.push_back(e);
  });
  s.wait();
}

// Replays a fixed list of token ids as if sampled, whatever the input.
class ScriptedBackend final : public Backend {
 public:
  ScriptedBackend(std::vector<TokenId> script, int vocab) : script_(std::move(script)), vocab_(vocab) {
    device_.backend = "scripted";
    device_.name = "script";
  }
  const DeviceInfo& device() const override { return device_; }
  int context_length() const override { return 4096; }
  int position() const override { return position_; }
  int vocab_size() const override { return vocab_; }
  int kv_value_bytes() const override { return 4; }
  int truncate(int n) override { return position_ = std::min(n, position_); }
  void checkpoint() override {}
  void forward(std::span<const TokenId> tokens, LogitsMode, float*) override { position_ += static_cast<int>(tokens.size()); }
  TokenId forward_and_sample(std::span<const TokenId> tokens, const SamplingParams&, SamplerState&) override {
    forward(tokens, LogitsMode::None, nullptr);
    return next_ < script_.size() ? script_[next_++] : script_.back();
  }

 private:
  std::vector<TokenId> script_;
  std::size_t next_ = 0;
  int vocab_;
  int position_ = 0;
  DeviceInfo device_;
};

}  // namespace

class TestEngineApi : public QObject {
  Q_OBJECT

  std::unique_ptr<Engine> engine_;

 private slots:
  void initTestCase() {
    EngineOptions o;
    o.backend = "cpu";
    o.context_length = 1024;
    engine_ = Engine::load(test::tiny_chat_model(), o);
    QCOMPARE(engine_->backend_name(), std::string("cpu"));
    QCOMPARE(engine_->model().vocab_size, 201088);
    // The CPU backend reads its weights ahead after the load and says so.
    const WeightsStatus weights = engine_->weights_status();
    QVERIFY2(weights.place == WeightsPlace::Reading || weights.place == WeightsPlace::Memory, weights.note.c_str());
    QVERIFY(weights.bytes > 0 && weights.bytes_read <= weights.bytes);
    QVERIFY(!weights.note.empty());
  }

  void events_end_with_stats_then_done() {
    auto session = engine_->create_session();
    Collected out;
    GenerationSettings g;
    g.temperature = 0;
    g.max_tokens = 12;
    run(*session, ask("Hello"), g, out);
    QVERIFY(out.events.size() >= 2);
    QCOMPARE(out.events.back().type, EventType::Done);
    QCOMPARE(out.events[out.events.size() - 2].type, EventType::Stats);
    const GenerationStats& s = out.events.back().stats;
    QCOMPARE(s.prompt_tokens, static_cast<int>(engine_->tokenize(engine_->render_prompt(ask("Hello"), g.reasoning), true).size()));
    QVERIFY(s.generated_tokens >= 1 && s.generated_tokens <= 12);
    if (out.events.back().finish == FinishReason::MaxTokens) QCOMPARE(s.generated_tokens, 12);
    QVERIFY(s.ttft_ms > 0);
    QCOMPARE(s.backend, std::string("cpu"));
    for (const auto& e : out.events) QVERIFY(e.type != EventType::Error);
  }

  void effort_reaches_the_system_message() {
    const std::string high = engine_->render_prompt(ask("x"), ReasoningEffort::High);
    QVERIFY(high.find("Reasoning: high") != std::string::npos);
    QVERIFY(engine_->render_prompt(ask("x"), ReasoningEffort::Low).find("Reasoning: low") != std::string::npos);
  }

  // The second turn prefills only what the first did not already compute.
  void follow_up_reuses_the_kv_cache() {
    auto session = engine_->create_session();
    GenerationSettings g;
    g.temperature = 0;
    g.max_tokens = 40;
    Conversation c = ask("What is the capital of France?");
    Collected first;
    run(*session, c, g, first);
    const int first_prompt = first.events.back().stats.prompt_tokens;
    c.messages.push_back({"assistant", "Paris.", "final", "", "", ""});
    c.messages.push_back({"user", "And of Italy?", "", "", "", ""});
    Collected second;
    run(*session, c, g, second);
    const GenerationStats& s = second.events.back().stats;
    QCOMPARE(s.reused_prompt_tokens, first_prompt);  // everything up to "<|start|>assistant"
    QVERIFY(s.prompt_tokens > first_prompt);
  }

  void cancel_stops_generation() {
    auto session = engine_->create_session();
    GenerationSettings g;
    g.max_tokens = 800;
    Collected out;
    std::atomic<int> deltas{0};
    session->submit(ask("Tell me a long story"), g, [&](const Event& e) {
      if (++deltas == 3) session->cancel();
      std::lock_guard<std::mutex> lock(out.mutex);
      out.events.push_back(e);
    });
    session->wait();
    QCOMPARE(out.events.back().type, EventType::Done);
    QCOMPARE(out.events.back().finish, FinishReason::Cancelled);
    QVERIFY(out.events.back().stats.generated_tokens < 800);
  }

  void seeded_sampling_repeats() {
    auto session = engine_->create_session();
    GenerationSettings g;
    g.temperature = 1.0f;
    g.top_p = 0.9f;
    g.seed = 1234;
    g.max_tokens = 16;
    Collected a, b;
    run(*session, ask("Pick a word"), g, a);
    run(*session, ask("Pick a word"), g, b);
    QCOMPARE(a.of(EventType::FinalDelta) + a.of(EventType::ReasoningDelta),
             b.of(EventType::FinalDelta) + b.of(EventType::ReasoningDelta));
    QCOMPARE(b.events.back().stats.reused_prompt_tokens, b.events.back().stats.prompt_tokens - 1);
  }

  void errors_arrive_as_events() {
    auto session = engine_->create_session();
    Conversation c = ask("x");
    c.messages.push_back({"wizard", "?", "", "", "", ""});  // not a harmony role
    Collected out;
    run(*session, c, GenerationSettings{}, out);
    QCOMPARE(out.events.size(), 2u);
    QCOMPARE(out.events[0].type, EventType::Error);
    QVERIFY(!out.events[0].text.empty());
    QCOMPARE(out.events[1].finish, FinishReason::Error);
    QVERIFY_THROWS_EXCEPTION(Error, Engine::load("/nonexistent.gguf", EngineOptions{}));
  }

  // Analysis -> reasoning deltas, final -> answer deltas, a tool call with its
  // recipient and constraint, and thinking time, from a known token script.
  void harmony_output_becomes_events() {
    auto model = Model::open(test::tiny_chat_model());
    const Tokenizer& tok = *model->tokenizer();
    auto ids = [&](const std::string& text) { return tok.encode(text, true); };
    std::vector<TokenId> script = ids("<|channel|>analysis<|message|>User says hi. Answer.<|end|>"
                                      "<|start|>assistant<|channel|>final<|message|>Hi there 👋<|return|>");
    auto impl = std::make_unique<EngineImpl>(std::move(model), std::make_unique<ScriptedBackend>(script, 201088),
                                             BackendChoice{"scripted", "test", ""});
    std::atomic<bool> cancel{false};
    Collected out;
    GenerationSettings g;
    g.max_tokens = 100;
    run_chat_turn(*impl, ask("hi"), g, cancel, [&](const Event& e) { out.events.push_back(e); });
    QCOMPARE(out.of(EventType::ReasoningDelta), std::string("User says hi. Answer."));
    QCOMPARE(out.of(EventType::FinalDelta), std::string("Hi there 👋"));
    QCOMPARE(out.events.back().finish, FinishReason::Complete);
    QCOMPARE(out.events.back().stats.generated_tokens, static_cast<int>(script.size()));
    QVERIFY(out.events.back().stats.reasoning_tokens > 0);

    auto model2 = Model::open(test::tiny_chat_model());
    const Tokenizer& tok2 = *model2->tokenizer();
    std::vector<TokenId> call = tok2.encode(
        "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\":\"Paris\"}<|call|>", true);
    auto impl2 = std::make_unique<EngineImpl>(std::move(model2), std::make_unique<ScriptedBackend>(call, 201088),
                                              BackendChoice{"scripted", "test", ""});
    Collected tool;
    run_chat_turn(*impl2, ask("weather?"), g, cancel, [&](const Event& e) { tool.events.push_back(e); });
    bool saw_call = false;
    for (const auto& e : tool.events) {
      if (e.type != EventType::ToolCall) continue;
      saw_call = true;
      QCOMPARE(e.recipient, std::string("functions.get_weather"));
      QCOMPARE(e.constraint, std::string("json"));
      QCOMPARE(e.text, std::string("{\"city\":\"Paris\"}"));
    }
    QVERIFY(saw_call);
    QCOMPARE(tool.events.back().finish, FinishReason::ToolCall);
  }
};

QTEST_APPLESS_MAIN(TestEngineApi)
#include "test_engine_api.moc"

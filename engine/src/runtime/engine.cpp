// ossdesk::Engine and ossdesk::ChatSession (include/ossdesk/engine.h) on top
// of EngineImpl's thread.
#include <cstdio>
#include <future>

#include "harmony/renderer.h"
#include "ossdesk/engine.h"
#include "runtime/engine_impl.h"

namespace ossdesk {

const char* to_string(EventType t) {
  switch (t) {
    case EventType::ReasoningDelta: return "reasoning";
    case EventType::FinalDelta: return "final";
    case EventType::CommentaryDelta: return "commentary";
    case EventType::ToolCall: return "tool_call";
    case EventType::Stats: return "stats";
    case EventType::Done: return "done";
    case EventType::Error: return "error";
  }
  return "?";
}

const char* to_string(FinishReason r) {
  switch (r) {
    case FinishReason::Complete: return "complete";
    case FinishReason::ToolCall: return "tool_call";
    case FinishReason::MaxTokens: return "max_tokens";
    case FinishReason::ContextFull: return "context_full";
    case FinishReason::Cancelled: return "cancelled";
    case FinishReason::Error: return "error";
  }
  return "?";
}

// ------------------------------------------------------------ EngineImpl

EngineImpl::EngineImpl(std::unique_ptr<Model> model, std::unique_ptr<Backend> backend, BackendChoice c)
    : choice(std::move(c)), model_(std::move(model)), backend_(std::move(backend)), sequence_(*backend_) {
  const ModelConfig& cfg = model_->config();
  summary.path = model_->path();
  summary.format = model_->format_name();
  summary.layers = cfg.num_layers;
  summary.hidden_size = cfg.hidden_size;
  summary.experts = cfg.num_experts;
  summary.experts_per_token = cfg.experts_per_token;
  summary.vocab_size = cfg.vocab_size;
  summary.max_context = cfg.max_context;
  summary.file_bytes = model_->file_bytes();
  thread_ = std::thread([this] { run(); });
}

EngineImpl::~EngineImpl() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void EngineImpl::post(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_all();
}

void EngineImpl::run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and nothing left to finish
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

const Tokenizer& EngineImpl::tokenizer() const {
  if (!model_->tokenizer()) fail_input(model_->tokenizer_problem());
  return *model_->tokenizer();
}

BackendOptions to_backend_options(const EngineOptions& o) {
  BackendOptions bo;
  bo.context_length = o.context_length;
  bo.max_batch = o.max_batch;
  bo.threads = o.threads;
  bo.device_index = o.device_index;
  bo.device_name = o.device_name;
  bo.allow_software_devices = o.allow_software_devices;
  bo.profile = o.profile;
  return bo;
}

Conversation with_reasoning_effort(Conversation conversation, ReasoningEffort effort) {
  if (!conversation.system) conversation.system = SystemSpec{};
  conversation.system->reasoning = effort;
  return conversation;
}

// ------------------------------------------------------------ devices

std::vector<std::string> backend_names() { return available_backends(); }

std::vector<DeviceEntry> available_devices(const std::string& backend, bool include_software, std::string* why_none) {
  std::vector<DeviceEntry> out;
  for (const DeviceInfo& d : ossdesk::list_devices(backend, include_software, why_none))
    out.push_back({d.backend, d.name, d.type, d.memory_bytes, d.index});
  return out;
}

// ------------------------------------------------------------ Engine

Engine::Engine(std::unique_ptr<EngineImpl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

std::unique_ptr<Engine> Engine::load(const std::string& model_path, const EngineOptions& o,
                                     const std::function<void(double, const std::string&)>& progress,
                                     const std::atomic<bool>* cancel) {
  if (progress) progress(0.0, "opening " + model_path);
  auto model = Model::open(model_path);
  if (cancel && cancel->load()) fail(ErrorKind::Cancelled, "loading " + model_path + " was cancelled");
  BackendOptions bo = to_backend_options(o);
  bo.context_length = std::max(256, std::min(o.context_length, model->config().max_context));
  LoadControl control{progress, cancel};
  BackendChoice choice;
  auto backend = create_backend(o.backend, *model, bo, control, &choice);
  return std::unique_ptr<Engine>(new Engine(std::make_unique<EngineImpl>(std::move(model), std::move(backend), choice)));
}

const ModelSummary& Engine::model() const { return impl_->summary; }
const std::string& Engine::backend_name() const { return impl_->choice.name; }
const std::string& Engine::backend_reason() const { return impl_->choice.reason; }
const std::string& Engine::backend_fallback() const { return impl_->choice.fallback; }
const std::string& Engine::device_name() const { return impl_->backend().device().name; }
int Engine::context_length() const { return impl_->backend().context_length(); }
WeightsStatus Engine::weights_status() const { return impl_->backend().weights_status(); }

std::vector<TokenId> Engine::tokenize(std::string_view text, bool allow_special) const {
  return impl_->tokenizer().encode(text, allow_special);
}

std::string Engine::detokenize(const std::vector<TokenId>& ids) const { return impl_->tokenizer().decode(ids); }

std::vector<OpTiming> Engine::take_profile() {
  std::promise<std::vector<OpTiming>> done;
  auto result = done.get_future();
  impl_->post([this, &done] { done.set_value(impl_->backend().take_profile()); });
  return result.get();
}

std::string Engine::render_prompt(const Conversation& conversation, ReasoningEffort effort) const {
  return harmony::render_for_completion(with_reasoning_effort(conversation, effort));
}

std::unique_ptr<ChatSession> Engine::create_session() { return std::unique_ptr<ChatSession>(new ChatSession(*impl_)); }

// ------------------------------------------------------------ ChatSession

struct ChatSession::State {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool running = false;
  std::atomic<bool> cancel{false};
};

ChatSession::ChatSession(EngineImpl& engine) : engine_(engine), state_(std::make_shared<State>()) {}

ChatSession::~ChatSession() {
  cancel();
  wait();
}

void ChatSession::submit(Conversation conversation, const GenerationSettings& settings, EventCallback on_event) {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->running) fail_input("a request is already running in this chat session");
    state_->running = true;
    state_->cancel = false;
  }
  std::shared_ptr<State> state = state_;
  EngineImpl& engine = engine_;
  engine_.post([state, &engine, conversation = std::move(conversation), settings, on_event = std::move(on_event)] {
    run_chat_turn(engine, conversation, settings, state->cancel, on_event);
    std::lock_guard<std::mutex> lock(state->mutex);
    state->running = false;
    state->done_cv.notify_all();
  });
}

void ChatSession::cancel() { state_->cancel = true; }

void ChatSession::wait() {
  std::unique_lock<std::mutex> lock(state_->mutex);
  state_->done_cv.wait(lock, [&] { return !state_->running; });
}

bool ChatSession::busy() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->running;
}

}  // namespace ossdesk

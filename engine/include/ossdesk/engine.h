// The engine's public API: load a gpt-oss model onto a backend, then chat.
//
//   auto engine = ossdesk::Engine::load("gpt-oss-20b.gguf", {});
//   auto session = engine->create_session();
//   session->submit(conversation, settings, [](const ossdesk::Event& e) { ... });
//
// Generation runs on the engine's own thread. Events are delivered on that
// thread, in order, and the callback must return quickly (post the event to
// your own thread; never block on the UI). One engine holds one KV cache;
// a follow-up turn prefills only what is new since the previous prompt.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ossdesk/chat.h"
#include "ossdesk/error.h"
#include "ossdesk/profile.h"
#include "ossdesk/weights_status.h"

namespace ossdesk {

struct EngineOptions {
  std::string backend = "auto";  // "auto" | "cpu" | "vulkan" | "cuda"
  int device_index = -1;         // -1: the backend's default device
  std::string device_name;       // or a substring of the device's name
  bool allow_software_devices = false;
  int context_length = 8192;
  int threads = 0;               // cpu backend: 0 = one per physical core it may use
  int max_batch = 512;           // prefill chunk
  bool profile = false;
};

// A device a backend can run on, as available_devices() reports it.
struct DeviceEntry {
  std::string backend;  // "cpu" | "vulkan" | "cuda"
  std::string name;
  std::string type;     // "cpu" | "discrete" | "integrated" | "virtual" | "software"
  std::uint64_t memory_bytes = 0;
  int index = 0;        // what EngineOptions::device_index takes
};

// The backends this build has ("vulkan", "cpu", ...), in the order auto tries them.
std::vector<std::string> backend_names();
// The devices of one backend (software Vulkan devices only with include_software);
// empty with the reason in why_none when there are none.
std::vector<DeviceEntry> available_devices(const std::string& backend, bool include_software, std::string* why_none);

struct ModelSummary {
  std::string path;
  std::string format;  // "gguf" | "safetensors"
  int layers = 0;
  int hidden_size = 0;
  int experts = 0;
  int experts_per_token = 0;
  int vocab_size = 0;
  int max_context = 0;
  std::uint64_t file_bytes = 0;
};

struct GenerationSettings {
  ReasoningEffort reasoning = ReasoningEffort::Medium;  // written into the system message
  float temperature = 1.0f;  // <= 0: greedy
  int top_k = 0;
  float top_p = 1.0f;
  float min_p = 0.0f;
  std::uint64_t seed = 0;
  int max_tokens = 4096;
};

struct GenerationStats {
  int prompt_tokens = 0;
  int reused_prompt_tokens = 0;  // already in the KV cache from the previous turn
  int generated_tokens = 0;
  int reasoning_tokens = 0;
  double ttft_ms = 0;             // submit -> first generated token
  double prefill_tokens_per_s = 0;
  double decode_tokens_per_s = 0;
  double thinking_ms = 0;         // first reasoning token -> end of reasoning
  double total_ms = 0;
  std::string backend;
  std::string device;
};

enum class EventType {
  ReasoningDelta,   // text on the analysis channel (show dimmed / collapsible)
  FinalDelta,       // text of the answer
  CommentaryDelta,  // text on the commentary channel without a recipient (a preamble)
  ToolCall,         // recipient + arguments (text) + constraint ("json")
  Stats,            // sent once, just before Done
  Done,
  Error,
};

enum class FinishReason { Complete, ToolCall, MaxTokens, ContextFull, Cancelled, Error };
const char* to_string(EventType type);
const char* to_string(FinishReason reason);

struct Event {
  Event() = default;
  explicit Event(EventType t) : type(t) {}
  EventType type = EventType::FinalDelta;
  std::string text;        // deltas; ToolCall: arguments; Error: message
  std::string recipient;   // ToolCall
  std::string constraint;  // ToolCall, e.g. "json"
  GenerationStats stats;   // Stats (and Done)
  FinishReason finish = FinishReason::Complete;  // Done
};
using EventCallback = std::function<void(const Event&)>;

class EngineImpl;
class ChatSession;

class Engine {
 public:
  // Opens the model and loads it onto the backend. progress(fraction, stage);
  // a set `cancel` aborts with Error(Cancelled). Throws ossdesk::Error.
  static std::unique_ptr<Engine> load(const std::string& model_path, const EngineOptions& options,
                                       const std::function<void(double, const std::string&)>& progress = {},
                                       const std::atomic<bool>* cancel = nullptr);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const ModelSummary& model() const;
  const std::string& backend_name() const;
  const std::string& backend_reason() const;  // why this backend (auto choice, fallback)
  // What the GPU backends that "auto" tried first could not do ("cuda could
  // not load the model: the model needs ..."); "" when the first one took it.
  const std::string& backend_fallback() const;
  const std::string& device_name() const;
  int context_length() const;
  // Where the weights are read from while generating (the CPU backend reads
  // them into RAM in the background after a load). Changes while that read
  // runs; callable from any thread.
  WeightsStatus weights_status() const;

  std::vector<TokenId> tokenize(std::string_view text, bool allow_special) const;
  std::string detokenize(const std::vector<TokenId>& ids) const;
  // The exact prompt text a conversation renders to (with the effort applied).
  std::string render_prompt(const Conversation& conversation, ReasoningEffort effort) const;
  // Per-op time since the last call (EngineOptions::profile); empty otherwise.
  // Runs on the engine's thread, after the requests already submitted.
  std::vector<OpTiming> take_profile();

  std::unique_ptr<ChatSession> create_session();

 private:
  explicit Engine(std::unique_ptr<EngineImpl> impl);
  std::unique_ptr<EngineImpl> impl_;
  friend class ChatSession;
};

class ChatSession {
 public:
  ~ChatSession();  // cancels and waits for its running request
  // Starts generating the assistant's next turn for `conversation` and returns
  // at once. Events arrive on the engine thread, ending with Stats then Done
  // (or Error then Done). Throws Error(BadInput) if a request is still running.
  void submit(Conversation conversation, const GenerationSettings& settings, EventCallback on_event);
  void cancel();  // the running request stops after the current token (Done: Cancelled)
  void wait();    // blocks until the running request has delivered Done
  bool busy() const;

 private:
  friend class Engine;
  struct State;
  explicit ChatSession(EngineImpl& engine);
  EngineImpl& engine_;
  std::shared_ptr<State> state_;
};

}  // namespace ossdesk

// `generate`: one chat turn through the public engine API, streamed to the
// terminal (reasoning dimmed, then the answer, then TTFT and tokens/s) or as
// one JSON event per line with --json.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "ossdesk/engine.h"

#ifdef _WIN32
#include <io.h>
#define isatty _isatty
#define fileno _fileno
#else
#include <unistd.h>
#endif

namespace ossdesk::cli {

namespace {

nlohmann::json stats_json(const GenerationStats& s) {
  return {{"prompt_tokens", s.prompt_tokens},     {"reused_prompt_tokens", s.reused_prompt_tokens},
          {"generated_tokens", s.generated_tokens}, {"reasoning_tokens", s.reasoning_tokens},
          {"ttft_ms", s.ttft_ms},                 {"prefill_tokens_per_s", s.prefill_tokens_per_s},
          {"decode_tokens_per_s", s.decode_tokens_per_s}, {"thinking_ms", s.thinking_ms},
          {"total_ms", s.total_ms},               {"backend", s.backend},
          {"device", s.device}};
}

}  // namespace

GenerationSettings generation_settings(const Args& args) {
  GenerationSettings s;
  const std::string effort = args.get_or("reasoning", "medium");
  auto parsed = parse_reasoning_effort(effort);
  if (!parsed) fail_input("--reasoning must be low, medium or high, found '" + effort + "'");
  s.reasoning = *parsed;
  s.temperature = static_cast<float>(args.get_double("temperature", 1.0));
  s.top_k = args.get_int("top-k", 0);
  s.top_p = static_cast<float>(args.get_double("top-p", 1.0));
  s.min_p = static_cast<float>(args.get_double("min-p", 0.0));
  s.seed = static_cast<std::uint64_t>(args.get_int("seed", 0));
  s.max_tokens = args.get_int("max-tokens", 1024);
  if (s.max_tokens < 1) fail_input("--max-tokens must be at least 1");
  return s;
}

int cmd_generate(const Argv& argv) {
  Args args("generate", argv,
            with_backend_options({"model", "prompt", "system", "reasoning", "temperature", "top-k", "top-p", "min-p", "seed",
                                  "max-tokens"}),
            {"json", "profile"});
  const bool json = args.flag("json");
  const bool tty = !json && isatty(fileno(stdout));
  Conversation conv;
  conv.system = SystemSpec{};
  if (args.has("system")) conv.developer = DeveloperSpec{args.get("system"), {}};
  conv.messages.push_back({"user", args.get("prompt"), "", "", "", ""});
  const GenerationSettings settings = generation_settings(args);

  EngineOptions options = engine_options(args);
  options.profile = args.flag("profile");
  auto engine = Engine::load(args.get("model"), options);
  if (json) {
    std::printf("%s\n", nlohmann::json{{"event", "loaded"}, {"backend", engine->backend_name()},
                                       {"reason", engine->backend_reason()}, {"device", engine->device_name()},
                                       {"weights", weights_json(engine->weights_status())}}
                            .dump()
                            .c_str());
  } else {
    std::fprintf(stderr, "%s on %s (%s)\n", engine->backend_name().c_str(), engine->device_name().c_str(),
                 engine->backend_reason().c_str());
    if (const WeightsStatus w = engine->weights_status(); !w.note.empty()) std::fprintf(stderr, "%s\n", w.note.c_str());
  }
  auto session = engine->create_session();
  EventType last = EventType::Done;
  int exit_code = 0;
  session->submit(conv, settings, [&](const Event& e) {
    if (json) {
      nlohmann::json j = {{"event", to_string(e.type)}};
      if (!e.text.empty() || e.type == EventType::ToolCall) j["text"] = e.text;
      if (e.type == EventType::ToolCall) j["recipient"] = e.recipient, j["constraint"] = e.constraint;
      if (e.type == EventType::Stats) j["stats"] = stats_json(e.stats);
      if (e.type == EventType::Done) j["finish"] = to_string(e.finish);
      // Invalid UTF-8 cannot reach here (the parser emits whole characters), but be safe.
      std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
      std::fflush(stdout);
      if (e.type == EventType::Error) exit_code = 1;
      return;
    }
    switch (e.type) {
      case EventType::ReasoningDelta:
      case EventType::CommentaryDelta:
        if (tty && last != e.type) std::fputs("\x1b[2m", stdout);
        std::fwrite(e.text.data(), 1, e.text.size(), stdout);
        break;
      case EventType::FinalDelta:
        if (last == EventType::ReasoningDelta || last == EventType::CommentaryDelta) std::fputs(tty ? "\x1b[0m\n\n" : "\n\n", stdout);
        std::fwrite(e.text.data(), 1, e.text.size(), stdout);
        break;
      case EventType::ToolCall:
        std::printf("%s\n[tool call to %s: %s]\n", tty ? "\x1b[0m" : "", e.recipient.c_str(), e.text.c_str());
        break;
      case EventType::Stats:
        std::printf("%s\n\n", tty ? "\x1b[0m" : "");
        std::printf("TTFT %.2f s · prefill %.1f tok/s · decode %.1f tok/s · %d tokens (%d reasoning) · %s on %s\n",
                    e.stats.ttft_ms / 1000.0, e.stats.prefill_tokens_per_s, e.stats.decode_tokens_per_s,
                    e.stats.generated_tokens, e.stats.reasoning_tokens, e.stats.backend.c_str(), e.stats.device.c_str());
        break;
      case EventType::Error:
        std::fprintf(stderr, "%serror: %s\n", tty ? "\x1b[0m" : "", e.text.c_str());
        exit_code = 1;
        break;
      case EventType::Done:
        if (e.finish != FinishReason::Complete) std::printf("(stopped: %s)\n", to_string(e.finish));
        break;
    }
    if (e.type != EventType::Stats && e.type != EventType::Done) last = e.type;
    std::fflush(stdout);
  });
  session->wait();
  if (args.flag("profile")) print_profile(engine->take_profile(), engine->backend_name(), engine->device_name());
  return exit_code;
}

}  // namespace ossdesk::cli

// One assistant turn: conversation -> harmony tokens -> generation ->
// harmony events -> public events, with stats.
#include <chrono>
#include <optional>

#include "harmony/renderer.h"
#include "harmony/stream_parser.h"
#include "runtime/engine_impl.h"

namespace ossdesk {

namespace {

FinishReason finish_of(StopReason stop, bool tool_call) {
  switch (stop) {
    case StopReason::StopToken: return tool_call ? FinishReason::ToolCall : FinishReason::Complete;
    case StopReason::MaxTokens: return FinishReason::MaxTokens;
    case StopReason::ContextFull: return FinishReason::ContextFull;
    case StopReason::Cancelled: return FinishReason::Cancelled;
  }
  return FinishReason::Error;
}

}  // namespace

void run_chat_turn(EngineImpl& engine, const Conversation& conversation, const GenerationSettings& settings,
                   const std::atomic<bool>& cancel, const EventCallback& emit) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  Event done{EventType::Done};
  try {
    const Tokenizer& tok = engine.tokenizer();
    GenerationRequest req;
    req.prompt = harmony::render_tokens(with_reasoning_effort(conversation, settings.reasoning), tok);
    req.max_tokens = std::max(1, settings.max_tokens);
    req.sampling = {settings.temperature, settings.top_k, settings.top_p, settings.min_p, settings.seed};
    for (const char* stop : {"<|return|>", "<|call|>"})
      if (auto id = tok.special_id(stop)) req.stop_tokens.push_back(*id);

    harmony::HarmonyStreamParser parser(tok);
    bool tool_call = false;
    int reasoning_tokens = 0;
    std::string current_channel;
    std::optional<clock::time_point> thinking_start, thinking_end;
    auto deliver = [&](const std::vector<harmony::HarmonyEvent>& events) {
      for (const auto& e : events) {
        if (e.kind == harmony::HarmonyEventKind::MessageStart) {
          current_channel = e.header.channel;
        } else if (e.kind == harmony::HarmonyEventKind::ContentDelta) {
          Event out;
          if (e.header.channel == "analysis") {
            out.type = EventType::ReasoningDelta;
            if (!thinking_start) thinking_start = clock::now();
          } else if (e.header.channel == "commentary" && e.header.recipient.empty()) {
            out.type = EventType::CommentaryDelta;
          } else if (e.header.channel == "commentary") {
            continue;  // tool-call arguments arrive whole with the call
          } else {
            out.type = EventType::FinalDelta;
            if (thinking_start && !thinking_end) thinking_end = clock::now();
          }
          out.text = e.text;
          emit(out);
        } else if (e.kind == harmony::HarmonyEventKind::MessageEnd) {
          if (e.header.channel == "analysis" && thinking_start && !thinking_end) thinking_end = clock::now();
          if (e.stop == harmony::HarmonyStop::Call && !e.header.recipient.empty()) {
            tool_call = true;
            Event out{EventType::ToolCall};
            out.text = e.text;
            out.recipient = e.header.recipient;
            out.constraint = e.header.constraint;
            emit(out);
          }
          current_channel.clear();
        }
      }
    };
    GenerationResult result = generate(engine.sequence(), req, [&](TokenId id) {
      if (current_channel == "analysis") ++reasoning_tokens;
      deliver(parser.push(id));
      return !cancel.load(std::memory_order_relaxed);
    }, &cancel);
    deliver(parser.finish());

    Event stats{EventType::Stats};
    GenerationStats& s = stats.stats;
    s.prompt_tokens = result.timings.prompt_tokens;
    s.reused_prompt_tokens = result.timings.reused_tokens;
    s.generated_tokens = result.timings.generated_tokens;
    s.reasoning_tokens = reasoning_tokens;
    s.ttft_ms = result.timings.ttft_ms();
    s.prefill_tokens_per_s = result.timings.prefill_tokens_per_s();
    s.decode_tokens_per_s = result.timings.decode_tokens_per_s();
    if (thinking_start)
      s.thinking_ms = std::chrono::duration<double, std::milli>(thinking_end.value_or(clock::now()) - *thinking_start).count();
    s.total_ms = std::chrono::duration<double, std::milli>(clock::now() - start).count();
    s.backend = engine.choice.name;
    s.device = engine.backend().device().name;
    emit(stats);
    done.stats = s;
    done.finish = finish_of(result.stop, tool_call);
  } catch (const std::exception& e) {
    // The KV cache may hold a half-written batch: forget it rather than trust it.
    engine.sequence().reset();
    Event err{EventType::Error};
    err.text = e.what();
    emit(err);
    done.finish = FinishReason::Error;
  }
  emit(done);
}

}  // namespace ossdesk

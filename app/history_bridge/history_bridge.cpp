#include "history_bridge.h"

namespace ossdesk::bridge {

Conversation to_conversation(const std::vector<storage::MessageRecord>& thread, const storage::ConversationSettings& s) {
  Conversation c;
  c.system = SystemSpec{};
  if (!s.system_prompt.empty()) c.developer = DeveloperSpec{s.system_prompt, {}};
  for (const auto& m : thread) {
    switch (m.role) {
      case storage::Role::User: c.messages.push_back({"user", m.content, "", "", "", ""}); break;
      case storage::Role::Assistant:
        for (const auto& call : m.tool_calls)
          c.messages.push_back({"assistant", call.arguments, "commentary", call.name, "<|constrain|>json", ""});
        if (!m.content.empty()) c.messages.push_back({"assistant", m.content, "final", "", "", ""});
        break;
      case storage::Role::Tool: c.messages.push_back({"tool", m.content, "commentary", "assistant", "", m.tool_name}); break;
      case storage::Role::System:
      case storage::Role::Developer: break;
    }
  }
  return c;
}

storage::MessageStatus status_of(FinishReason f) {
  switch (f) {
    case FinishReason::Complete:
    case FinishReason::ToolCall:
    case FinishReason::MaxTokens:
    case FinishReason::ContextFull: return storage::MessageStatus::Complete;
    case FinishReason::Cancelled: return storage::MessageStatus::Cancelled;
    case FinishReason::Error: return storage::MessageStatus::Error;
  }
  return storage::MessageStatus::Error;
}

storage::MessageStats stats_of(const GenerationStats& g, const std::string& model, const std::string& effort) {
  storage::MessageStats s;
  s.model = model;
  s.backend = g.backend;
  s.device = g.device;
  s.reasoning_effort = effort;
  s.prompt_tokens = g.prompt_tokens;
  s.generated_tokens = g.generated_tokens;
  s.ttft_ms = g.ttft_ms;
  s.decode_tokens_per_s = g.decode_tokens_per_s;
  s.thinking_ms = g.thinking_ms;
  return s;
}

GenerationSettings apply_sampling(const storage::SamplingSettings& kept, GenerationSettings g) {
  if (kept.temperature) g.temperature = static_cast<float>(*kept.temperature);
  if (kept.top_p) g.top_p = static_cast<float>(*kept.top_p);
  if (kept.top_k) g.top_k = static_cast<int>(*kept.top_k);
  if (kept.min_p) g.min_p = static_cast<float>(*kept.min_p);
  if (kept.max_tokens) g.max_tokens = static_cast<int>(*kept.max_tokens);
  if (kept.seed) g.seed = static_cast<std::uint64_t>(*kept.seed);
  return g;
}

}  // namespace ossdesk::bridge

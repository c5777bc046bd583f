#include "runtime/generator.h"

#include <algorithm>
#include <chrono>

#include "ossdesk/error.h"

namespace ossdesk {

const char* to_string(StopReason reason) {
  switch (reason) {
    case StopReason::StopToken: return "stop";
    case StopReason::MaxTokens: return "max_tokens";
    case StopReason::ContextFull: return "context_full";
    case StopReason::Cancelled: return "cancelled";
  }
  return "?";
}

int KvSequence::reuse_prefix(std::span<const TokenId> prompt) {
  std::size_t common = 0;
  const std::size_t limit = std::min(prompt.size(), tokens_.size());
  while (common < limit && prompt[common] == tokens_[common]) ++common;
  // Keep at least one prompt token to run, so there are logits to sample from.
  if (common == prompt.size() && common > 0) --common;
  const int kept = backend_.truncate(static_cast<int>(common));
  tokens_.resize(static_cast<std::size_t>(kept));
  return kept;
}

GenerationResult generate(KvSequence& seq, const GenerationRequest& req, const std::function<bool(TokenId)>& on_token,
                          const std::atomic<bool>* cancel) {
  using clock = std::chrono::steady_clock;
  if (req.prompt.empty()) fail_input("the prompt is empty");
  GenerationResult result;
  Backend& backend = seq.backend();
  const auto start = clock::now();
  const int kept = seq.reuse_prefix(req.prompt);
  result.timings.prompt_tokens = static_cast<int>(req.prompt.size());
  result.timings.reused_tokens = kept;
  result.timings.prefilled_tokens = static_cast<int>(req.prompt.size()) - kept;
  const std::span<const TokenId> rest = std::span<const TokenId>(req.prompt).subspan(static_cast<std::size_t>(kept));
  if (backend.position() + static_cast<int>(rest.size()) > backend.context_length())
    fail_input("the prompt (" + std::to_string(req.prompt.size()) + " tokens) does not fit the context length of " +
               std::to_string(backend.context_length()));
  SamplerState rng(req.sampling.seed);
  auto is_stop = [&](TokenId t) { return std::find(req.stop_tokens.begin(), req.stop_tokens.end(), t) != req.stop_tokens.end(); };
  auto cancelled = [&] { return cancel && cancel->load(std::memory_order_relaxed); };

  // Prefill all but the last prompt token, checkpoint, then the last one samples.
  if (rest.size() > 1) backend.forward(rest.first(rest.size() - 1), LogitsMode::None, nullptr);
  seq.append(rest.first(rest.size() - 1));
  TokenId next = backend.forward_and_sample(rest.last(1), req.sampling, rng);
  seq.append(rest.last(1));
  if (req.checkpoint_prompt) backend.checkpoint();
  const auto first = clock::now();
  result.timings.prefill_ms = std::chrono::duration<double, std::milli>(first - start).count();
  result.stop = StopReason::MaxTokens;
  for (int i = 0; i < req.max_tokens; ++i) {
    result.tokens.push_back(next);
    ++result.timings.generated_tokens;
    if (on_token && !on_token(next)) {
      result.stop = StopReason::Cancelled;
      break;
    }
    if (is_stop(next)) {
      result.stop = StopReason::StopToken;
      break;
    }
    if (i + 1 == req.max_tokens) break;
    if (cancelled()) {
      result.stop = StopReason::Cancelled;
      break;
    }
    if (backend.position() + 1 > backend.context_length()) {
      result.stop = StopReason::ContextFull;
      break;
    }
    const TokenId fed = next;
    next = backend.forward_and_sample(std::span<const TokenId>(&fed, 1), req.sampling, rng);
    seq.append(std::span<const TokenId>(&fed, 1));
  }
  result.timings.decode_ms = std::chrono::duration<double, std::milli>(clock::now() - first).count();
  return result;
}

}  // namespace ossdesk

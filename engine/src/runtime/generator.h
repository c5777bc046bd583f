// The token-level generation loop every front end shares: reuse what the KV
// cache already holds of the prompt, prefill the rest, then decode one token
// at a time until a stop token, the token limit, a full context or cancel.
// Knows nothing of harmony or text: callers turn tokens into events.
#pragma once

#include <atomic>
#include <functional>
#include <span>
#include <vector>

#include "backends/backend.h"

namespace ossdesk {

enum class StopReason { StopToken, MaxTokens, ContextFull, Cancelled };
const char* to_string(StopReason reason);

struct GenerationTimings {
  int prompt_tokens = 0;
  int reused_tokens = 0;     // prompt tokens already in the KV cache
  int prefilled_tokens = 0;  // prompt tokens computed this time
  int generated_tokens = 0;
  double prefill_ms = 0;     // from start to the first generated token's id
  double decode_ms = 0;      // from the first generated token to the last
  double ttft_ms() const { return prefill_ms; }
  double prefill_tokens_per_s() const { return prefill_ms > 0 ? prefilled_tokens * 1000.0 / prefill_ms : 0; }
  // The first token comes out of prefill, so decode speed counts the rest.
  double decode_tokens_per_s() const {
    return decode_ms > 0 && generated_tokens > 1 ? (generated_tokens - 1) * 1000.0 / decode_ms : 0;
  }
};

struct GenerationRequest {
  std::vector<TokenId> prompt;
  int max_tokens = 256;
  SamplingParams sampling;
  std::vector<TokenId> stop_tokens;  // generation ends after emitting one of these
  bool checkpoint_prompt = true;     // remember the end of the prompt for the next turn's reuse
};

struct GenerationResult {
  std::vector<TokenId> tokens;  // generated ids (the stop token included)
  StopReason stop = StopReason::MaxTokens;
  GenerationTimings timings;
};

// Tracks which tokens the backend's KV cache holds, so the next request can
// start where the shared prefix ends.
class KvSequence {
 public:
  explicit KvSequence(Backend& backend) : backend_(backend) {}
  Backend& backend() { return backend_; }
  const std::vector<TokenId>& tokens() const { return tokens_; }
  // Rolls the cache back to the longest prefix of `prompt` it can keep; returns that length.
  int reuse_prefix(std::span<const TokenId> prompt);
  void append(std::span<const TokenId> tokens) { tokens_.insert(tokens_.end(), tokens.begin(), tokens.end()); }
  void reset() {
    backend_.truncate(0);
    tokens_.clear();
  }

 private:
  Backend& backend_;
  std::vector<TokenId> tokens_;
};

// on_token(id) is called for every generated id as soon as it is known;
// returning false stops generation (counted as Cancelled).
GenerationResult generate(KvSequence& seq, const GenerationRequest& request, const std::function<bool(TokenId)>& on_token,
                          const std::atomic<bool>* cancel = nullptr);

}  // namespace ossdesk

// Token sampling: the parameters every backend honours and the host reference
// implementation (the CPU backend uses it directly; GPU backends implement the
// same rules on the device and are checked against this one).
//
// Order of the filters, as in llama.cpp's default chain: temperature scales the
// logits, then top-k, then top-p (nucleus), then min-p (relative to the most
// likely token), then one draw. temperature <= 0 means greedy (argmax; the
// lowest id wins a tie).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ossdesk/chat.h"

namespace ossdesk {

struct SamplingParams {
  float temperature = 1.0f;
  int top_k = 0;        // 0 = off
  float top_p = 1.0f;   // 1 = off
  float min_p = 0.0f;   // 0 = off
  std::uint64_t seed = 0;
};

// A small deterministic generator (splitmix64 + xoshiro256**), so a seed
// reproduces the same draws on every platform and backend.
class SamplerState {
 public:
  explicit SamplerState(std::uint64_t seed = 0) { reseed(seed); }
  void reseed(std::uint64_t seed);
  std::uint64_t next_u64();
  double next_unit();  // uniform in [0, 1)

 private:
  std::uint64_t s_[4] = {};
};

TokenId argmax(std::span<const float> logits);
// Samples one id from `logits` (which may be modified as scratch).
TokenId sample_token(std::span<float> logits, const SamplingParams& params, SamplerState& state,
                     std::vector<std::pair<float, TokenId>>& scratch);

}  // namespace ossdesk

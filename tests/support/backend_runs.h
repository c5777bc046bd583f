// Runs a backend the way the golden tests compare it: every position's logits
// of one forward pass, and the greedy continuation through the runtime's
// generator. Tests that use greedy() link oss_runtime.
#pragma once

#include <vector>

#include "backends/backend.h"
#include "runtime/generator.h"

namespace ossdesk::test {

inline std::vector<float> all_logits(Backend& b, const std::vector<int>& tokens) {
  std::vector<float> out(tokens.size() * static_cast<std::size_t>(b.vocab_size()));
  b.forward(tokens, LogitsMode::All, out.data());
  return out;
}

inline std::vector<int> greedy(Backend& b, const std::vector<int>& prompt, int n) {
  KvSequence seq(b);
  GenerationRequest req;
  req.prompt = prompt;
  req.max_tokens = n;
  req.sampling.temperature = 0;
  return generate(seq, req, nullptr).tokens;
}

}  // namespace ossdesk::test

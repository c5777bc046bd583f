// Runs a backend the way the golden tests compare it: every position's logits
// of one forward pass, and the greedy continuation through the runtime's
// generator; and the GPU criterion of ../shared/golden/README.md. Tests that
// use greedy() link oss_runtime; gpu_criterion() needs Qt (QString).
#pragma once

#include <QString>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/backend.h"
#include "golden_fixture.h"
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

constexpr float kGpuTolerance = 0.03f;
constexpr float kTopMargin = 0.05f;

// The GPU criterion over [rows x vocab] logits: max |diff| below 0.03, and the
// same top-1 wherever the reference's top-1/top-2 margin exceeds 0.05.
// Returns an empty string when met.
inline QString gpu_criterion(const std::vector<float>& got, const std::vector<float>& ref, std::size_t vocab,
                             float* max_diff) {
  const std::size_t rows = ref.size() / vocab;
  *max_diff = max_abs_diff(got.data(), ref.data(), ref.size());
  if (!(*max_diff < kGpuTolerance)) return QString("max |diff| %1").arg(*max_diff);
  for (std::size_t r = 0; r < rows; ++r) {
    const float* a = ref.data() + r * vocab;
    const float* b = got.data() + r * vocab;
    const std::size_t top = static_cast<std::size_t>(std::max_element(a, a + vocab) - a);
    float second = -1e30f;
    for (std::size_t i = 0; i < vocab; ++i)
      if (i != top) second = std::max(second, a[i]);
    if (a[top] - second > kTopMargin && static_cast<std::size_t>(std::max_element(b, b + vocab) - b) != top)
      return QString("position %1: top-1 differs with a margin of %2").arg(r).arg(a[top] - second);
  }
  return {};
}

}  // namespace ossdesk::test

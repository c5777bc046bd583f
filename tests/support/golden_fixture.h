// The golden fixtures of tests/data/golden (see its README): a small random
// gpt-oss checkpoint in the Hugging Face layout plus the official reference's
// logits and greedy continuation.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "model/safetensors.h"

namespace ossdesk::test {

struct GoldenFixture {
  std::string dir;
  std::vector<int> tokens;
  std::vector<int> greedy;
  std::vector<float> logits;  // [tokens x vocab]
  int vocab = 0;
};

inline GoldenFixture load_golden(const std::string& name) {
  GoldenFixture g;
  g.dir = std::string(OSSDESK_TEST_DATA_DIR) + "/golden/" + name;
  SafetensorsFile ref(g.dir + "/reference.safetensors");
  auto ints = [&](const char* key) {
    const TensorView& t = ref.tensors().at(key);
    std::vector<int> v(t.elements());
    std::memcpy(v.data(), t.data, t.nbytes);
    return v;
  };
  g.tokens = ints("tokens");
  g.greedy = ints("greedy");
  const TensorView& l = ref.tensors().at("logits");
  g.vocab = static_cast<int>(l.shape[1]);
  g.logits.resize(l.elements());
  std::memcpy(g.logits.data(), l.data, l.nbytes);
  return g;
}

// The larger of a running worst error and a new one, where a NaN or infinite
// error makes the worst infinite: std::max alone passes a NaN over, so a
// kernel that writes NaN would look exact.
inline float worst_of(float worst, float error) {
  return std::isfinite(error) ? std::max(worst, error) : std::numeric_limits<float>::infinity();
}

inline float max_abs_diff(const float* a, const float* b, std::size_t n) {
  float m = 0;
  for (std::size_t i = 0; i < n; ++i) m = worst_of(m, std::abs(a[i] - b[i]));
  return m;
}

}  // namespace ossdesk::test

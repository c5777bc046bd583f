// What the GPU op tests (Vulkan and CUDA) share: random inputs, float vectors
// as the CPU ops take them, and the scale a float dot product's rounding error
// is measured against.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "backends/cpu/kernels.h"
#include "golden_fixture.h"
#include "model/weights.h"

namespace ossdesk::test {

inline std::vector<float> random_floats(std::size_t n, std::mt19937& rng, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& f : v) f = u(rng);
  return v;
}

// A row of `n` distinct logits spread over [-8, 8) in random order, with
// `bad` of them NaN or infinite: the device samplers' tests draw from it (a tie
// at the draw's crossing would make the device's lowest-id rule and the host
// sampler's sort order disagree, which the samplers document).
inline std::vector<float> distinct_logits(std::size_t n, std::size_t bad, std::mt19937& rng) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<float> row(n);
  for (std::size_t i = 0; i < n; ++i) row[i] = -8.0f + 16.0f * static_cast<float>(order[i]) / static_cast<float>(n);
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity()};
  for (std::size_t i = 0; i < bad && i < n; ++i) row[order[i]] = specials[i % 3];
  return row;
}

// The id of the largest finite logit (0 when none is finite): what a draw
// with u = 0 picks, the host walking to its first, most likely token.
inline std::int32_t most_likely_finite(const std::vector<float>& row) {
  std::size_t top = 0;
  for (std::size_t i = 0; i < row.size(); ++i)
    if (std::isfinite(row[i]) && (!std::isfinite(row[top]) || row[i] > row[top])) top = i;
  return static_cast<std::int32_t>(top);
}

// cpu::moe's choice of experts from one token's router logits (it keeps it
// private to moe.cpp): the k highest, highest first, of equal logits the
// lower expert (as torch.topk), weighted by the softmax over the k.
struct ExpertChoice {
  std::vector<int> index;
  std::vector<float> weight;
};
inline ExpertChoice choose_experts(const float* logits, int experts, int k) {
  std::vector<int> order(static_cast<std::size_t>(experts));
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int a, int b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
  ExpertChoice c;
  c.index.assign(order.begin(), order.begin() + k);
  const float top = logits[c.index[0]];
  float sum = 0;
  for (const int e : c.index) sum += c.weight.emplace_back(std::exp(logits[e] - top));
  for (float& w : c.weight) w /= sum;
  return c;
}

// A SwiGLU limit for the GPU expert tests: with their random residual rows
// (-3..3), over half of the (gate, up) pairs have the gate above it or up
// below its negative, where no value passes the models' 7; so a row run at
// it shows a clamp left out, which the model's limit cannot.
constexpr float kTightSwigluLimit = 0.5f;

// How far a GPU's residual after the experts is from the CPU's: the largest
// |got - ref| (NaN counts as worst), and the size it is judged against, the
// largest change the CPU's experts made to the residual (|ref - before|).
struct ExpertsError {
  float diff = 0.0f, contribution = 0.0f;
};
inline ExpertsError experts_error(const std::vector<float>& got, const std::vector<float>& ref, const std::vector<float>& before) {
  ExpertsError e;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    e.diff = worst_of(e.diff, std::fabs(got[i] - ref[i]));
    e.contribution = std::max(e.contribution, std::fabs(ref[i] - before[i]));
  }
  return e;
}

// A float vector as the CPU ops take a norm weight, a bias or the sinks.
inline VectorView float_view(const std::vector<float>& v) {
  VectorView view;
  view.format = WeightFormat::F32;
  view.n = static_cast<std::int64_t>(v.size());
  view.data = reinterpret_cast<const std::uint8_t*>(v.data());
  view.stride = 4;
  return view;
}

// Per output y[t * w.rows + r] of y = W x (+ bias): sum_c |w_rc x_tc| (+ |bias_r|).
// Another summation order, or inputs kept to fewer bits, moves a float dot
// product by at most a small multiple of this.
inline std::vector<float> product_magnitudes(const MatrixView& w, const float* x, int tokens, const float* bias = nullptr) {
  std::vector<float> out(static_cast<std::size_t>(w.rows) * static_cast<std::size_t>(tokens));
  std::vector<float> row(static_cast<std::size_t>(w.cols));
  for (std::int64_t r = 0; r < w.rows; ++r) {
    cpu::portable_kernels().dequant_row(w, r, row.data());
    for (int t = 0; t < tokens; ++t) {
      double s = bias ? std::abs(bias[r]) : 0.0;
      for (std::int64_t c = 0; c < w.cols; ++c)
        s += std::abs(static_cast<double>(row[static_cast<std::size_t>(c)]) * x[static_cast<std::size_t>(t * w.cols + c)]);
      out[static_cast<std::size_t>(t * w.rows + r)] = static_cast<float>(s);
    }
  }
  return out;
}

}  // namespace ossdesk::test

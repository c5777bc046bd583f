#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "backends/cpu/ops.h"

namespace ossdesk::cpu {

namespace {

// glu = min(glu, limit); lin = clamp(lin, -limit, limit); glu * sigmoid(1.702 glu) * (lin + 1)
inline float swiglu(float glu, float lin, float limit) {
  glu = std::min(glu, limit);
  lin = std::clamp(lin, -limit, limit);
  return glu / (1.0f + std::exp(-1.702f * glu)) * (lin + 1.0f);
}

}  // namespace

void moe(const OpContext& ctx, const LayerWeights& L, const ModelConfig& c, const float* normed, int tokens, float* residual) {
  const int H = c.hidden_size, I = c.intermediate_size, E = c.num_experts, K = c.experts_per_token;
  const auto limit = static_cast<float>(c.swiglu_limit);
  std::vector<float> router(static_cast<std::size_t>(tokens) * E);
  matmul(ctx, L.router, &L.router_bias, normed, tokens, router.data());

  // Per expert: which tokens chose it and with what weight.
  std::vector<std::vector<std::pair<int, float>>> assigned(E);
  std::vector<int> order(E);
  std::vector<float> weights(static_cast<std::size_t>(K));
  for (int t = 0; t < tokens; ++t) {
    const float* logits = router.data() + static_cast<std::size_t>(t) * E;
    std::iota(order.begin(), order.end(), 0);
    // Highest logits first; on a tie the lower expert index wins, like torch.topk.
    std::partial_sort(order.begin(), order.begin() + K, order.end(), [&](int a, int b) {
      return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    });
    const float top = logits[order[0]];
    float sum = 0;
    for (int k = 0; k < K; ++k) sum += weights[k] = std::exp(logits[order[k]] - top);
    for (int k = 0; k < K; ++k) assigned[order[k]].emplace_back(t, weights[k] / sum);
  }

  std::vector<float> x, gate, up, act, down;
  for (int e = 0; e < E; ++e) {
    const auto& who = assigned[e];
    if (who.empty()) continue;
    const int n = static_cast<int>(who.size());
    x.resize(static_cast<std::size_t>(n) * H);
    for (int i = 0; i < n; ++i)
      std::copy_n(normed + static_cast<std::size_t>(who[i].first) * H, H, x.data() + static_cast<std::size_t>(i) * H);
    gate.resize(static_cast<std::size_t>(n) * I);
    up.resize(static_cast<std::size_t>(n) * I);
    act.resize(static_cast<std::size_t>(n) * I);
    down.resize(static_cast<std::size_t>(n) * H);
    const VectorView gate_bias = L.gate_bias.expert(e), up_bias = L.up_bias.expert(e), down_bias = L.down_bias.expert(e);
    matmul(ctx, L.gate.expert(e), &gate_bias, x.data(), n, gate.data());
    matmul(ctx, L.up.expert(e), &up_bias, x.data(), n, up.data());
    for (std::size_t i = 0; i < act.size(); ++i) act[i] = swiglu(gate[i], up[i], limit);
    matmul(ctx, L.down.expert(e), &down_bias, act.data(), n, down.data());
    for (int i = 0; i < n; ++i)
      ctx.k.axpy(who[i].second, down.data() + static_cast<std::size_t>(i) * H,
                 residual + static_cast<std::size_t>(who[i].first) * H, H);
  }
}

}  // namespace ossdesk::cpu

#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/cpu/ops.h"

namespace ossdesk::cpu {

void attention(const OpContext& ctx, const KvCache& cache, int layer, const AttentionShape& s, const VectorView& sinks,
               const float* q, int first_pos, int tokens, float* out) {
  const int q_per_kv = s.heads / s.kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim));
  const int q_dim = s.heads * s.head_dim;
  const std::size_t work = static_cast<std::size_t>(tokens) * s.heads;
  ctx.pool.parallel_for(work, 1, [&](std::size_t w0, std::size_t w1) {
    std::vector<float> scores;
    for (std::size_t w = w0; w < w1; ++w) {
      const int t = static_cast<int>(w / s.heads);
      const int h = static_cast<int>(w % s.heads);
      const int kvh = h / q_per_kv;
      const int pos = first_pos + t;
      // Window W: the token sees itself and the W-1 before it.
      const int first_key = s.window > 0 ? std::max(0, pos - s.window + 1) : 0;
      const int n = pos - first_key + 1;
      const float* qh = q + static_cast<std::size_t>(t) * q_dim + static_cast<std::size_t>(h) * s.head_dim;
      scores.resize(static_cast<std::size_t>(n));
      float max_score = sinks.at(h);
      for (int j = 0; j < n; ++j) {
        const float* kj = cache.key(layer, first_key + j) + kvh * s.head_dim;
        scores[j] = ctx.k.dot_f32(qh, kj, s.head_dim) * scale;
        max_score = std::max(max_score, scores[j]);
      }
      double denom = std::exp(static_cast<double>(sinks.at(h) - max_score));
      for (int j = 0; j < n; ++j) {
        scores[j] = std::exp(scores[j] - max_score);
        denom += scores[j];
      }
      float* oh = out + static_cast<std::size_t>(t) * q_dim + static_cast<std::size_t>(h) * s.head_dim;
      std::fill(oh, oh + s.head_dim, 0.0f);
      const float inv = static_cast<float>(1.0 / denom);
      for (int j = 0; j < n; ++j) {
        const float* vj = cache.value(layer, first_key + j) + kvh * s.head_dim;
        ctx.k.axpy(scores[j] * inv, vj, oh, s.head_dim);
      }
    }
  });
}

}  // namespace ossdesk::cpu

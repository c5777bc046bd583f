#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/cpu/ops.h"

namespace ossdesk::cpu {
namespace {

// How many of a kv head's query heads one work item takes: as many as the
// kernels take at once (reading each key and value row once for all of them),
// but fewer where that would leave threads idle (a decode step has only
// kv_heads groups per token).
int heads_per_item(int q_per_kv, std::size_t groups, unsigned threads) {
  int best = 1;
  for (int g = 1; g <= std::min(q_per_kv, kMaxGroupHeads); ++g)
    if (q_per_kv % g == 0) best = g;
  while (best > 1 && groups * static_cast<std::size_t>(q_per_kv / best) < threads) {
    int smaller = best - 1;
    while (q_per_kv % smaller != 0) --smaller;
    best = smaller;
  }
  return best;
}

}  // namespace

void attention(const OpContext& ctx, const KvCache& cache, int layer, const AttentionShape& s, const VectorView& sinks,
               const float* q, int first_pos, int tokens, float* out) {
  const int q_per_kv = s.heads / s.kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim));
  const int q_dim = s.heads * s.head_dim;
  const int group = heads_per_item(q_per_kv, static_cast<std::size_t>(tokens) * s.kv_heads, ctx.pool.size());
  const int items_per_token = s.heads / group;
  const std::size_t work = static_cast<std::size_t>(tokens) * items_per_token;
  ctx.pool.parallel_for(work, 1, [&](std::size_t w0, std::size_t w1) {
    std::vector<const float*> keys, values;
    std::vector<float> scores;
    float max[kMaxGroupHeads];
    for (std::size_t w = w0; w < w1; ++w) {
      const int t = static_cast<int>(w / items_per_token);
      const int h0 = static_cast<int>(w % items_per_token) * group;  // the group's first query head
      const int kv_head = h0 / q_per_kv;
      const int pos = first_pos + t;
      // Window W: the token sees itself and the W-1 before it.
      const int first_key = s.window > 0 ? std::max(0, pos - s.window + 1) : 0;
      const int n = pos - first_key + 1;
      keys.resize(static_cast<std::size_t>(n));
      values.resize(static_cast<std::size_t>(n));
      for (int j = 0; j < n; ++j) {
        keys[j] = cache.key(layer, first_key + j, kv_head);
        values[j] = cache.value(layer, first_key + j, kv_head);
      }
      const KvRows rows{keys.data(), values.data(), n};
      const std::size_t head_offset = static_cast<std::size_t>(t) * q_dim + static_cast<std::size_t>(h0) * s.head_dim;
      scores.resize(static_cast<std::size_t>(group) * n);
      ctx.k.group_scores(q + head_offset, group, s.head_dim, rows, scale, scores.data(), max);
      // Softmax over the keys plus the head's sink logit, which takes
      // probability mass and adds no value.
      float inv_denom[kMaxGroupHeads];
      for (int h = 0; h < group; ++h) {
        const float sink = sinks.at(h0 + h);
        const float m = std::max(max[h], sink);
        const double denom = std::exp(static_cast<double>(sink - m)) +
                             ctx.k.exp_shifted_sum(scores.data() + static_cast<std::size_t>(h) * n, n, m);
        inv_denom[h] = static_cast<float>(1.0 / denom);
      }
      float* oh = out + head_offset;
      ctx.k.group_values(scores.data(), group, s.head_dim, rows, oh);
      for (int h = 0; h < group; ++h)
        for (int d = 0; d < s.head_dim; ++d) oh[h * s.head_dim + d] *= inv_denom[h];
    }
  });
}

}  // namespace ossdesk::cpu

// The CPU backend's operators, each the plain float32 form of one step of
// DESIGN.md §2. Batched over `tokens` rows laid out contiguously.
#pragma once

#include <cstdint>

#include "backends/cpu/kernels.h"
#include "backends/cpu/kv_cache.h"
#include "model/weights.h"
#include "util/thread_pool.h"

namespace ossdesk::cpu {

struct OpContext {
  ThreadPool& pool;
  const Kernels& k;
};

// y[t] = W x[t] (+ bias): x is [tokens x W.cols], y is [tokens x W.rows].
void matmul(const OpContext& ctx, const MatrixView& w, const VectorView* bias, const float* x, int tokens, float* y);

// out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * scale
void rmsnorm(const float* x, const VectorView& scale, double eps, int tokens, int dim, float* out);

// One embedding row (any weight format) as float32.
void embed(const OpContext& ctx, const MatrixView& table, int token, float* out);

struct AttentionShape {
  int heads;
  int kv_heads;
  int head_dim;
  int window;  // 0: full causal attention
};

// Causal attention with a learned per-head sink logit (an extra softmax column
// that takes probability mass and contributes no value). q is [tokens x heads*head_dim]
// for positions first_pos..first_pos+tokens-1, whose keys/values are already in `cache`.
void attention(const OpContext& ctx, const KvCache& cache, int layer, const AttentionShape& shape, const VectorView& sinks,
               const float* q, int first_pos, int tokens, float* out);

// Router, top-k, softmax over the selected logits, experts with clamped SwiGLU,
// weighted sum added into `residual` ([tokens x hidden]); `normed` is the
// post-attention-normed input.
void moe(const OpContext& ctx, const LayerWeights& layer, const ModelConfig& config, const float* normed, int tokens,
         float* residual);

}  // namespace ossdesk::cpu

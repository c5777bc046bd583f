// Rotary position embedding with YaRN scaling, exactly as gpt-oss's reference
// (gpt_oss/torch/model.py, RotaryEmbedding): per-frequency blend of
// interpolated and extrapolated inverse frequencies over a linear ramp between
// beta_fast and beta_slow, and cos/sin scaled by the "concentration"
// 0.1 * ln(factor) + 1. Halves are rotated (NeoX style), not interleaved pairs.
#pragma once

#include <vector>

#include "model/config.h"

namespace ossdesk::cpu {

class YarnRope {
 public:
  explicit YarnRope(const ModelConfig& config);
  // cos/sin tables for one position: head_dim/2 each, concentration included.
  void tables(int position, float* cos_out, float* sin_out) const;
  // Rotates `heads` vectors of head_dim in place with the given tables.
  void apply(float* x, int heads, const float* cos_t, const float* sin_t) const;
  int half_dim() const { return half_; }
  // What the tables are made of (the GPU backends evaluate cos/sin themselves).
  const std::vector<float>& inv_freq() const { return inv_freq_; }
  float concentration() const { return concentration_; }

 private:
  int half_ = 0;
  float concentration_ = 1.0f;
  std::vector<float> inv_freq_;
};

}  // namespace ossdesk::cpu

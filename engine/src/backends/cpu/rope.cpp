#include "backends/cpu/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace ossdesk::cpu {

YarnRope::YarnRope(const ModelConfig& c) : half_(c.head_dim / 2), inv_freq_(half_) {
  // Float32 throughout where the reference uses float32 tensors, so positions
  // far into the context round the same way.
  const double base = c.rope_theta;
  const double d_half = half_;
  if (c.rope_scaling_factor > 1.0) {
    concentration_ = static_cast<float>(0.1 * std::log(c.rope_scaling_factor) + 1.0);
    const double low = d_half * std::log(c.rope_original_context / (c.rope_beta_fast * 2 * std::numbers::pi)) / std::log(base);
    const double high = d_half * std::log(c.rope_original_context / (c.rope_beta_slow * 2 * std::numbers::pi)) / std::log(base);
    for (int i = 0; i < half_; ++i) {
      const float freq = static_cast<float>(std::pow(base, static_cast<float>(2 * i) / static_cast<float>(c.head_dim)));
      const float interpolation = 1.0f / (static_cast<float>(c.rope_scaling_factor) * freq);
      const float extrapolation = 1.0f / freq;
      const float ramp = static_cast<float>((static_cast<float>(i) - low) / (high - low));
      const float mask = 1.0f - std::clamp(ramp, 0.0f, 1.0f);
      inv_freq_[i] = interpolation * (1.0f - mask) + extrapolation * mask;
    }
  } else {
    for (int i = 0; i < half_; ++i)
      inv_freq_[i] = 1.0f / static_cast<float>(std::pow(base, static_cast<float>(2 * i) / static_cast<float>(c.head_dim)));
  }
}

void YarnRope::tables(int position, float* cos_out, float* sin_out) const {
  const float t = static_cast<float>(position);
  for (int i = 0; i < half_; ++i) {
    const float angle = t * inv_freq_[i];
    cos_out[i] = static_cast<float>(std::cos(static_cast<double>(angle))) * concentration_;
    sin_out[i] = static_cast<float>(std::sin(static_cast<double>(angle))) * concentration_;
  }
}

void YarnRope::apply(float* x, int heads, const float* cos_t, const float* sin_t) const {
  for (int h = 0; h < heads; ++h) {
    float* v = x + h * 2 * half_;
    for (int i = 0; i < half_; ++i) {
      const float x1 = v[i], x2 = v[i + half_];
      v[i] = x1 * cos_t[i] - x2 * sin_t[i];
      v[i + half_] = x2 * cos_t[i] + x1 * sin_t[i];
    }
  }
}

}  // namespace ossdesk::cpu

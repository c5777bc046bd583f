#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/cpu/ops.h"

namespace ossdesk::cpu {

void matmul(const OpContext& ctx, const MatrixView& w, const VectorView* bias, const float* x, int tokens, float* y) {
  const std::int64_t rows = w.rows, cols = w.cols;
  if (tokens == 1) {
    // Decode: bandwidth bound, so each row is streamed once straight into a dot product.
    ctx.pool.parallel_for(static_cast<std::size_t>(rows), 16, [&](std::size_t r0, std::size_t r1) {
      for (std::size_t r = r0; r < r1; ++r) {
        const auto ri = static_cast<std::int64_t>(r);
        y[r] = ctx.k.dot_row(w, ri, x) + (bias ? bias->at(ri) : 0.0f);
      }
    });
    return;
  }
  // Prefill: dequantize rows once, four at a time, and reuse them for every
  // token; each pass serves four rows and three tokens (the rest one token a
  // pass).
  const std::size_t groups = static_cast<std::size_t>((rows + 3) / 4);
  ctx.pool.parallel_for(groups, 1, [&](std::size_t g0, std::size_t g1) {
    std::vector<float> block(static_cast<std::size_t>(cols) * 4);
    for (std::size_t g = g0; g < g1; ++g) {
      const std::int64_t r0 = static_cast<std::int64_t>(g) * 4;
      const int n = static_cast<int>(std::min<std::int64_t>(4, rows - r0));
      float b[4] = {0, 0, 0, 0};
      for (int i = 0; i < n; ++i) {
        ctx.k.dequant_row(w, r0 + i, block.data() + static_cast<std::size_t>(i) * cols);
        if (bias) b[i] = bias->at(r0 + i);
      }
      int t = 0;
      if (n == 4) {
        for (; t + 3 <= tokens; t += 3) {
          float out[12];
          ctx.k.dot4x3_f32(block.data(), x + static_cast<std::size_t>(t) * cols, cols, cols, out);
          for (int j = 0; j < 3; ++j)
            for (int i = 0; i < 4; ++i) y[static_cast<std::size_t>(t + j) * rows + r0 + i] = out[j * 4 + i] + b[i];
        }
      }
      for (; t < tokens; ++t) {
        const float* xt = x + static_cast<std::size_t>(t) * cols;
        float* yt = y + static_cast<std::size_t>(t) * rows + r0;
        if (n == 4) {
          float out[4];
          ctx.k.dot4_f32(block.data(), xt, cols, out);
          for (int i = 0; i < 4; ++i) yt[i] = out[i] + b[i];
        } else {
          for (int i = 0; i < n; ++i) yt[i] = ctx.k.dot_f32(block.data() + static_cast<std::size_t>(i) * cols, xt, cols) + b[i];
        }
      }
    }
  });
}

void rmsnorm(const float* x, const VectorView& scale, double eps, int tokens, int dim, float* out) {
  for (int t = 0; t < tokens; ++t) {
    const float* xi = x + static_cast<std::size_t>(t) * dim;
    float* oi = out + static_cast<std::size_t>(t) * dim;
    double sum = 0;
    for (int i = 0; i < dim; ++i) sum += static_cast<double>(xi[i]) * xi[i];
    const float inv = static_cast<float>(1.0 / std::sqrt(sum / dim + eps));
    for (int i = 0; i < dim; ++i) oi[i] = xi[i] * inv * scale.at(i);
  }
}

void embed(const OpContext& ctx, const MatrixView& table, int token, float* out) { ctx.k.dequant_row(table, token, out); }

}  // namespace ossdesk::cpu

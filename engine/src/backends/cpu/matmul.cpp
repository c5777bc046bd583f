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
  // Prefill: dequantize each row once, reuse it for every token.
  ctx.pool.parallel_for(static_cast<std::size_t>(rows), 4, [&](std::size_t r0, std::size_t r1) {
    std::vector<float> row(static_cast<std::size_t>(cols));
    for (std::size_t r = r0; r < r1; ++r) {
      const auto ri = static_cast<std::int64_t>(r);
      ctx.k.dequant_row(w, ri, row.data());
      const float b = bias ? bias->at(ri) : 0.0f;
      for (int t = 0; t < tokens; ++t) y[static_cast<std::size_t>(t) * rows + r] = ctx.k.dot_f32(row.data(), x + static_cast<std::size_t>(t) * cols, cols) + b;
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

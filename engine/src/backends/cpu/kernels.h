// The CPU backend's inner loops: one dot product and one row dequantizer per
// weight format, plus float32 vector helpers. Three implementations exist: a
// portable one (kernels_portable.cpp), one for x86-64 with AVX2, FMA and F16C
// (kernels_avx2.cpp) and one that adds AVX-512 loops for the block formats
// (kernels_avx512.cpp), each compiled with its instruction sets; cpu_kernels()
// picks at run time, so one binary runs everywhere and is fast where it can be.
//
// Numerics: every kernel computes in float32 exactly the values the stored
// format encodes; only the summation order differs between implementations.
#pragma once

#include <cstdint>

#include "model/weights.h"

namespace ossdesk::cpu {

using DotFn = float (*)(const MatrixView& w, std::int64_t row, const float* x);
using DequantFn = void (*)(const MatrixView& w, std::int64_t row, float* out);

// The most query heads one group_scores / group_values call takes (gpt-oss: 8
// per kv head). Larger groups are split by the caller.
inline constexpr int kMaxGroupHeads = 8;

// One kv head's key and value rows for a query position, oldest first.
struct KvRows {
  const float* const* keys;
  const float* const* values;
  int n;
};

struct Kernels {
  const char* name;  // "avx2" | "portable"
  DotFn dot[6];          // indexed by WeightFormat
  DequantFn dequant[6];
  float (*dot_f32)(const float* a, const float* b, std::int64_t n);
  void (*axpy)(float a, const float* x, float* y, std::int64_t n);  // y += a * x
  // out[i] = dot(rows + i * n, x) for four consecutive rows: one pass over x
  // serves four rows (prefill, where rows are dequantized once and reused).
  void (*dot4_f32)(const float* rows, const float* x, std::int64_t n, float* out);
  // out[t * 4 + i] = dot(rows + i * n, x + t * x_stride) for four consecutive
  // rows and three tokens: twelve independent sums, enough to keep both FMA
  // units busy, where dot4_f32's four wait on the FMA latency (prefill).
  void (*dot4x3_f32)(const float* rows, const float* x, std::int64_t x_stride, std::int64_t n, float* out);

  // Attention for one GQA group: `heads` (1..kMaxGroupHeads) query heads, laid
  // out [heads x dim], that share one kv head, whose n key and value rows are
  // given by pointer (a sliding layer's rows wrap around its ring). Each key
  // and value row is read once for all the group's heads.
  //   scores[h * n + j] = dot(q[h], keys[j]) * scale;  max[h] = max_j scores[h * n + j]
  // It may also start loading the value rows, which group_values reads next.
  void (*group_scores)(const float* q, int heads, int dim, const KvRows& rows, float scale, float* scores, float* max);
  //   out[h] = sum_j p[h * n + j] * values[j]   (out [heads x dim] is overwritten)
  void (*group_values)(const float* p, int heads, int dim, const KvRows& rows, float* out);
  // x[i] = exp(x[i] - shift) for i < n; returns their sum, accumulated in double.
  double (*exp_shifted_sum)(float* x, std::int64_t n, float shift);

  float dot_row(const MatrixView& w, std::int64_t row, const float* x) const {
    return dot[static_cast<int>(w.format)](w, row, x);
  }
  void dequant_row(const MatrixView& w, std::int64_t row, float* out) const {
    dequant[static_cast<int>(w.format)](w, row, out);
  }
};

const Kernels& portable_kernels();
const Kernels* avx2_kernels();    // null when not compiled in (non-x86 builds) or this CPU lacks AVX2
const Kernels* avx512_kernels();  // the same for AVX-512 (F, BW, DQ, VL)
// kernels_avx512.cpp: points the block formats' entries of `k` at its loops.
// Only for avx512_kernels(), once it has checked the CPU.
void install_avx512_block_kernels(Kernels& k);
// The fastest kernels this CPU runs: AVX-512, AVX2, portable. The environment
// variable OSSDESK_CPU_KERNELS=avx2 or =portable caps the choice (to compare
// them, or to rule one out).
const Kernels& cpu_kernels();

}  // namespace ossdesk::cpu

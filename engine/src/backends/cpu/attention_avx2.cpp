// The attention kernels for AVX2 + FMA (declared in attention_avx2.h). Both
// matrix loops keep one accumulator per query head of the group in registers,
// so a key or value row is loaded once for all the group's heads (eight for
// gpt-oss) instead of once per head.
#include "backends/cpu/attention_avx2.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>

#include "backends/cpu/avx2_math.h"

namespace ossdesk::cpu::avx2 {
namespace {

// Calls fn(std::integral_constant<int, h>) for h = 0 .. H-1, unrolled, so that
// each accumulator is indexed by a constant and stays in a register (a loop
// over a runtime index makes the compiler keep the array in memory and store
// it on every iteration).
template <int H, typename Fn>
inline void each_head(Fn&& fn) {
  [&]<int... I>(std::integer_sequence<int, I...>) { (fn(std::integral_constant<int, I>{}), ...); }(
      std::make_integer_sequence<int, H>{});
}

// A long context's keys and values do not fit in the caches, so the loops ask
// for rows ahead of use. The key loop asks for the key row kPrefetchAhead keys
// ahead (into L1) and the value row likewise (into L2, for group_values, which
// comes next); the value loop brings the next block of rows from L2 into L1, a
// line per key and pass. Measured on a cache of 24 layers at 1040 positions,
// per call for a group of 8 heads: values 62 -> 20 us, keys 26 -> 31 us (the
// key loop also fetches the values).
constexpr int kPrefetchAhead = 16;

template <auto Hint>  // _MM_HINT_T0 or _T1 (an enum in GCC, an int in MSVC)
inline void prefetch_row(const float* row, int dim) {
  const auto first = reinterpret_cast<std::uintptr_t>(row) & ~std::uintptr_t{63};
  const auto end = reinterpret_cast<std::uintptr_t>(row + dim);
  for (std::uintptr_t line = first; line < end; line += 64) _mm_prefetch(reinterpret_cast<const char*>(line), Hint);
}

// Line `index` of a row (counting from the line its first float is on), if the row reaches it.
inline void prefetch_line(const float* row, int dim, int index) {
  const auto line = (reinterpret_cast<std::uintptr_t>(row) & ~std::uintptr_t{63}) + static_cast<std::uintptr_t>(index) * 64;
  if (line < reinterpret_cast<std::uintptr_t>(row + dim)) _mm_prefetch(reinterpret_cast<const char*>(line), _MM_HINT_T0);
}

template <int H>
void scores_for(const float* q, int dim, const KvRows& rows, float scale, float* scores, float* max) {
  const int n = rows.n;
  const int vec_dim = dim & ~7;
  const auto score_at = [&](int h, int j) -> float& { return scores[static_cast<std::ptrdiff_t>(h) * n + j]; };
  float m[H];
  std::fill(m, m + H, -std::numeric_limits<float>::infinity());
  __m256 m8 = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  for (int j = 0; j < n; ++j) {
    const float* k = rows.keys[j];
    if (j + kPrefetchAhead < n) {
      prefetch_row<_MM_HINT_T0>(rows.keys[j + kPrefetchAhead], dim);
      prefetch_row<_MM_HINT_T1>(rows.values[j + kPrefetchAhead], dim);
    }
    __m256 acc[H];
    each_head<H>([&](auto h) { acc[h] = _mm256_setzero_ps(); });
    for (int d = 0; d < vec_dim; d += 8) {
      const __m256 kv = _mm256_loadu_ps(k + d);
      each_head<H>([&](auto h) { acc[h] = _mm256_fmadd_ps(_mm256_loadu_ps(q + h * dim + d), kv, acc[h]); });
    }
    if constexpr (H == 8) {
      if (vec_dim == dim) {  // gpt-oss: one reduction tree for the eight sums
        const __m256 s =
            _mm256_mul_ps(hsum8(acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7]), _mm256_set1_ps(scale));
        m8 = _mm256_max_ps(m8, s);
        alignas(32) float lanes[8];
        _mm256_store_ps(lanes, s);
        for (int h = 0; h < 8; ++h) score_at(h, j) = lanes[h];
        continue;
      }
    }
    float sums[H];
    each_head<H>([&](auto h) { sums[h] = hsum(acc[h]); });
    for (int h = 0; h < H; ++h) {
      float s = sums[h];
      for (int d = vec_dim; d < dim; ++d) s += q[h * dim + d] * k[d];
      s *= scale;
      score_at(h, j) = s;
      m[h] = std::max(m[h], s);
    }
  }
  // One of the two running maxima was used (m8 on the eight-head path, m
  // otherwise); the other is still -inf.
  alignas(32) float m8_lanes[8];
  _mm256_store_ps(m8_lanes, m8);
  for (int h = 0; h < H; ++h) max[h] = std::max(m[h], m8_lanes[h]);
}

template <int H>
void values_for(const float* p, int dim, const KvRows& rows, float* out) {
  const int n = rows.n;
  const float* const* values = rows.values;
  // Keys in blocks, so that one block's value rows stay in L1 while the loop
  // walks the row eight floats at a time.
  constexpr int kKeyBlock = 64;
  const int vec_dim = dim & ~7;
  const auto p_at = [&](int h, int j) { return p + static_cast<std::ptrdiff_t>(h) * n + j; };
  std::fill(out, out + H * dim, 0.0f);
  for (int j0 = 0; j0 < n; j0 += kKeyBlock) {
    const int j1 = std::min(n, j0 + kKeyBlock);
    for (int d = 0; d < vec_dim; d += 8) {
      __m256 acc[H];
      each_head<H>([&](auto h) { acc[h] = _mm256_loadu_ps(out + h * dim + d); });
      for (int j = j0; j < j1; ++j) {
        if (j + kKeyBlock < n) prefetch_line(values[j + kKeyBlock], dim, d / 8);  // the next block, spread over the passes
        const __m256 v = _mm256_loadu_ps(values[j] + d);
        each_head<H>([&](auto h) { acc[h] = _mm256_fmadd_ps(_mm256_broadcast_ss(p_at(h, j)), v, acc[h]); });
      }
      each_head<H>([&](auto h) { _mm256_storeu_ps(out + h * dim + d, acc[h]); });
    }
    for (int d = vec_dim; d < dim; ++d)
      for (int h = 0; h < H; ++h) {
        float s = out[h * dim + d];
        for (int j = j0; j < j1; ++j) s += *p_at(h, j) * values[j][d];
        out[h * dim + d] = s;
      }
  }
}

// Calls fn(std::integral_constant<int, heads>): each group size gets its own
// instance of the loops above, with the head loops unrolled.
template <int H = 1, typename Fn>
void with_heads(int heads, Fn&& fn) {
  if constexpr (H <= kMaxGroupHeads) {
    if (heads == H) return fn(std::integral_constant<int, H>{});
    with_heads<H + 1>(heads, fn);
  }
}

}  // namespace

void group_scores(const float* q, int heads, int dim, const KvRows& rows, float scale, float* scores, float* max) {
  with_heads(heads, [&](auto h) { scores_for<decltype(h)::value>(q, dim, rows, scale, scores, max); });
}

void group_values(const float* p, int heads, int dim, const KvRows& rows, float* out) {
  with_heads(heads, [&](auto h) { values_for<decltype(h)::value>(p, dim, rows, out); });
}

double exp_shifted_sum(float* x, std::int64_t n, float shift) {
  const __m256 s = _mm256_set1_ps(shift);
  __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
  const auto add = [&](__m256 e) {
    lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
    hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
  };
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
    _mm256_storeu_ps(x + i, e);
    add(e);
  }
  if (i < n) {  // the tail through the same exp, padded with e^-inf = 0
    alignas(32) float tail[8];
    std::fill(tail, tail + 8, -std::numeric_limits<float>::infinity());
    std::copy(x + i, x + n, tail);
    const __m256 e = exp8(_mm256_sub_ps(_mm256_load_ps(tail), s));
    _mm256_store_ps(tail, e);
    std::copy(tail, tail + (n - i), x + i);
    add(e);
  }
  const __m256d sum = _mm256_add_pd(lo, hi);
  alignas(32) double parts[4];
  _mm256_store_pd(parts, sum);
  return (parts[0] + parts[1]) + (parts[2] + parts[3]);
}

}  // namespace ossdesk::cpu::avx2

#endif

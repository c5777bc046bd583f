// AVX2 + FMA + F16C kernels (x86-64). This file is compiled with those
// instruction sets enabled; avx2_kernels() checks the running CPU before
// handing them out.
#include "backends/cpu/kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include <cstring>

#include "backends/cpu/attention_avx2.h"
#include "backends/cpu/avx2_math.h"
#include "util/half.h"

namespace ossdesk::cpu {
namespace {

using avx2::hsum;

// E2M1 values doubled, so they fit int8 for a byte shuffle; the block scale
// carries the factor 1/2.
inline __m128i fp4_lut() { return _mm_setr_epi8(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12); }

struct HalfScaleTable {
  float v[256];
  HalfScaleTable() {
    for (int e = 0; e < 256; ++e) v[e] = e8m0_to_f32(static_cast<std::uint8_t>(e)) * 0.5f;
  }
};
const HalfScaleTable& half_scales() {
  static const HalfScaleTable t;
  return t;
}

inline __m256 i8x8_to_ps(__m128i v) { return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v)); }

// 32 int8 values in element order (two vectors of 16: FP4 codes looked up,
// or Q8_0 codes) times 32 floats of x.
inline __m256 fp4_block_dot(__m128i v0, __m128i v1, const float* x) {
  __m256 s = _mm256_mul_ps(i8x8_to_ps(v0), _mm256_loadu_ps(x));
  s = _mm256_fmadd_ps(i8x8_to_ps(_mm_srli_si128(v0, 8)), _mm256_loadu_ps(x + 8), s);
  s = _mm256_fmadd_ps(i8x8_to_ps(v1), _mm256_loadu_ps(x + 16), s);
  s = _mm256_fmadd_ps(i8x8_to_ps(_mm_srli_si128(v1, 8)), _mm256_loadu_ps(x + 24), s);
  return s;
}

inline void fp4_block_store(__m128i v0, __m128i v1, float scale, float* out) {
  const __m256 s = _mm256_set1_ps(scale);
  _mm256_storeu_ps(out, _mm256_mul_ps(i8x8_to_ps(v0), s));
  _mm256_storeu_ps(out + 8, _mm256_mul_ps(i8x8_to_ps(_mm_srli_si128(v0, 8)), s));
  _mm256_storeu_ps(out + 16, _mm256_mul_ps(i8x8_to_ps(v1), s));
  _mm256_storeu_ps(out + 24, _mm256_mul_ps(i8x8_to_ps(_mm_srli_si128(v1, 8)), s));
}

// Hugging Face packing: byte k = element 2k (low nibble) | element 2k+1 (high).
inline void unpack_hf(const std::uint8_t* q, __m128i* v0, __m128i* v1) {
  const __m128i m4 = _mm_set1_epi8(0x0f);
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
  const __m128i lo = _mm_and_si128(bytes, m4);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), m4);
  *v0 = _mm_shuffle_epi8(fp4_lut(), _mm_unpacklo_epi8(lo, hi));
  *v1 = _mm_shuffle_epi8(fp4_lut(), _mm_unpackhi_epi8(lo, hi));
}

// ggml packing: low nibbles are elements 0..15, high nibbles 16..31.
inline void unpack_ggml(const std::uint8_t* q, __m128i* v0, __m128i* v1) {
  const __m128i m4 = _mm_set1_epi8(0x0f);
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
  *v0 = _mm_shuffle_epi8(fp4_lut(), _mm_and_si128(bytes, m4));
  *v1 = _mm_shuffle_epi8(fp4_lut(), _mm_and_si128(_mm_srli_epi16(bytes, 4), m4));
}

// Q8_0: the 32 int8 codes as they are stored.
inline void unpack_q8_0(const std::uint8_t* q, __m128i* v0, __m128i* v1) {
  *v0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
  *v1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 16));
}

// The block's f16 scale by F16C (the software conversion was a call per block
// and most of the loop's time); exact for every f16, subnormals included.
inline float q8_scale(const std::uint8_t* block) {
  std::uint16_t d;
  std::memcpy(&d, block, 2);
  return _cvtsh_ss(d);
}

// One row of a block format: where its blocks' codes and scales are, and how
// codes become 32 int8 values (the scale carries any factor). Built once per
// row, so the loops below, which serve all three formats, look up nothing
// else per block.
struct HfRow {  // codes: 16 bytes per block in the row; scales: a separate row
  const std::uint8_t* q;
  const std::uint8_t* s;
  const float* table = half_scales().v;
  HfRow(const MatrixView& w, std::int64_t r) : q(w.row(r)), s(w.row_scales(r)) {}
  const std::uint8_t* codes(std::int64_t b) const { return q + b * 16; }
  float scale(std::int64_t b) const { return table[s[b]]; }
  static void unpack(const std::uint8_t* c, __m128i* v0, __m128i* v1) { unpack_hf(c, v0, v1); }
};
struct GgmlRow {  // 17-byte blocks: scale byte, then 16 bytes of codes
  const std::uint8_t* p;
  const float* table = half_scales().v;
  GgmlRow(const MatrixView& w, std::int64_t r) : p(w.row(r)) {}
  const std::uint8_t* codes(std::int64_t b) const { return p + b * 17 + 1; }
  float scale(std::int64_t b) const { return table[p[b * 17]]; }
  static void unpack(const std::uint8_t* c, __m128i* v0, __m128i* v1) { unpack_ggml(c, v0, v1); }
};
struct Q8Row {  // 34-byte blocks: f16 scale, then 32 int8 codes
  const std::uint8_t* p;
  Q8Row(const MatrixView& w, std::int64_t r) : p(w.row(r)) {}
  const std::uint8_t* codes(std::int64_t b) const { return p + b * 34 + 2; }
  float scale(std::int64_t b) const { return q8_scale(p + b * 34); }
  static void unpack(const std::uint8_t* c, __m128i* v0, __m128i* v1) { unpack_q8_0(c, v0, v1); }
};

template <typename Row>
float dot_blocks(const MatrixView& w, std::int64_t r, const float* x) {
  const Row row(w, r);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  const std::int64_t nb = w.cols / 32;
  std::int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {  // two independent accumulators hide the FMA latency
    __m128i a0, a1, c0, c1;
    Row::unpack(row.codes(b), &a0, &a1);
    Row::unpack(row.codes(b + 1), &c0, &c1);
    acc0 = _mm256_fmadd_ps(fp4_block_dot(a0, a1, x + b * 32), _mm256_set1_ps(row.scale(b)), acc0);
    acc1 = _mm256_fmadd_ps(fp4_block_dot(c0, c1, x + (b + 1) * 32), _mm256_set1_ps(row.scale(b + 1)), acc1);
  }
  for (; b < nb; ++b) {
    __m128i a0, a1;
    Row::unpack(row.codes(b), &a0, &a1);
    acc0 = _mm256_fmadd_ps(fp4_block_dot(a0, a1, x + b * 32), _mm256_set1_ps(row.scale(b)), acc0);
  }
  return hsum(_mm256_add_ps(acc0, acc1));
}

template <typename Row>
void dequant_blocks(const MatrixView& w, std::int64_t r, float* out) {
  const Row row(w, r);
  const std::int64_t nb = w.cols / 32;
  for (std::int64_t b = 0; b < nb; ++b) {
    __m128i v0, v1;
    Row::unpack(row.codes(b), &v0, &v1);
    fp4_block_store(v0, v1, row.scale(b), out + b * 32);
  }
}

inline __m256 bf16x8(const std::uint8_t* p) {
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
inline __m256 f16x8(const std::uint8_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }

template <__m256 (*Load)(const std::uint8_t*), float (*Scalar)(std::uint16_t)>
float dot_half(const MatrixView& w, std::int64_t r, const float* x) {
  const std::uint8_t* p = w.row(r);
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  std::int64_t i = 0;
  for (; i + 32 <= w.cols; i += 32) {
    a0 = _mm256_fmadd_ps(Load(p + 2 * i), _mm256_loadu_ps(x + i), a0);
    a1 = _mm256_fmadd_ps(Load(p + 2 * i + 16), _mm256_loadu_ps(x + i + 8), a1);
    a2 = _mm256_fmadd_ps(Load(p + 2 * i + 32), _mm256_loadu_ps(x + i + 16), a2);
    a3 = _mm256_fmadd_ps(Load(p + 2 * i + 48), _mm256_loadu_ps(x + i + 24), a3);
  }
  for (; i + 8 <= w.cols; i += 8) a0 = _mm256_fmadd_ps(Load(p + 2 * i), _mm256_loadu_ps(x + i), a0);
  float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < w.cols; ++i) {
    std::uint16_t h;
    std::memcpy(&h, p + 2 * i, 2);
    s += Scalar(h) * x[i];
  }
  return s;
}

template <__m256 (*Load)(const std::uint8_t*), float (*Scalar)(std::uint16_t)>
void dequant_half(const MatrixView& w, std::int64_t r, float* out) {
  const std::uint8_t* p = w.row(r);
  std::int64_t i = 0;
  for (; i + 8 <= w.cols; i += 8) _mm256_storeu_ps(out + i, Load(p + 2 * i));
  for (; i < w.cols; ++i) {
    std::uint16_t h;
    std::memcpy(&h, p + 2 * i, 2);
    out[i] = Scalar(h);
  }
}

float dot_f32(const float* a, const float* b, std::int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  std::int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), a3);
  }
  for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), a0);
  float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

float dot_f32_row(const MatrixView& w, std::int64_t r, const float* x) {
  return dot_f32(reinterpret_cast<const float*>(w.row(r)), x, w.cols);
}

void dequant_f32(const MatrixView& w, std::int64_t r, float* out) {
  std::memcpy(out, w.row(r), static_cast<std::size_t>(w.cols) * 4);
}

void axpy(float a, const float* x, float* y, std::int64_t n) {
  const __m256 va = _mm256_set1_ps(a);
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

void dot4_f32(const float* rows, const float* x, std::int64_t n, float* out) {
  const float* r0 = rows;
  const float* r1 = rows + n;
  const float* r2 = rows + 2 * n;
  const float* r3 = rows + 3 * n;
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 xv = _mm256_loadu_ps(x + i);
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + i), xv, a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + i), xv, a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + i), xv, a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + i), xv, a3);
  }
  out[0] = hsum(a0);
  out[1] = hsum(a1);
  out[2] = hsum(a2);
  out[3] = hsum(a3);
  for (; i < n; ++i) {
    out[0] += r0[i] * x[i];
    out[1] += r1[i] * x[i];
    out[2] += r2[i] * x[i];
    out[3] += r3[i] * x[i];
  }
}

void dot4x3_f32(const float* rows, const float* x, std::int64_t x_stride, std::int64_t n, float* out) {
  const float* x0 = x;
  const float* x1 = x + x_stride;
  const float* x2 = x + 2 * x_stride;
  __m256 acc[4][3];
  for (auto& row : acc)
    for (auto& a : row) a = _mm256_setzero_ps();
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v0 = _mm256_loadu_ps(x0 + i), v1 = _mm256_loadu_ps(x1 + i), v2 = _mm256_loadu_ps(x2 + i);
    for (int r = 0; r < 4; ++r) {
      const __m256 w = _mm256_loadu_ps(rows + r * n + i);
      acc[r][0] = _mm256_fmadd_ps(w, v0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(w, v1, acc[r][1]);
      acc[r][2] = _mm256_fmadd_ps(w, v2, acc[r][2]);
    }
  }
  for (int r = 0; r < 4; ++r) {
    const float* row = rows + r * n;
    float tail[3] = {0, 0, 0};
    for (std::int64_t j = i; j < n; ++j) {
      tail[0] += row[j] * x0[j];
      tail[1] += row[j] * x1[j];
      tail[2] += row[j] * x2[j];
    }
    for (int t = 0; t < 3; ++t) out[t * 4 + r] = hsum(acc[r][t]) + tail[t];
  }
}

float bf16_scalar(std::uint16_t h) { return bf16_to_f32(h); }

bool cpu_has_avx2() {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
  return true;  // MSVC builds with /arch:AVX2 only when targeting such CPUs
#endif
}

}  // namespace

const Kernels* avx2_kernels() {
  static const Kernels k = {
      "avx2",
      {dot_f32_row, dot_half<f16x8, f16_to_f32>, dot_half<bf16x8, bf16_scalar>, dot_blocks<Q8Row>, dot_blocks<HfRow>,
       dot_blocks<GgmlRow>},
      {dequant_f32, dequant_half<f16x8, f16_to_f32>, dequant_half<bf16x8, bf16_scalar>, dequant_blocks<Q8Row>,
       dequant_blocks<HfRow>, dequant_blocks<GgmlRow>},
      dot_f32,
      axpy,
      dot4_f32,
      dot4x3_f32,
      avx2::group_scores,
      avx2::group_values,
      avx2::exp_shifted_sum,
  };
  static const bool ok = cpu_has_avx2();
  return ok ? &k : nullptr;
}

}  // namespace ossdesk::cpu

#else

namespace ossdesk::cpu {
const Kernels* avx2_kernels() { return nullptr; }
}  // namespace ossdesk::cpu

#endif

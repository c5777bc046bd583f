#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string_view>
#include <vector>

#include "backends/cpu/kernels.h"
#include "util/half.h"

namespace ossdesk::cpu {
namespace {

inline std::uint16_t load_u16(const std::uint8_t* p) {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

void dequant_f32(const MatrixView& w, std::int64_t r, float* out) {
  std::memcpy(out, w.row(r), static_cast<std::size_t>(w.cols) * 4);
}
void dequant_f16(const MatrixView& w, std::int64_t r, float* out) {
  const std::uint8_t* p = w.row(r);
  for (std::int64_t i = 0; i < w.cols; ++i) out[i] = f16_to_f32(load_u16(p + 2 * i));
}
void dequant_bf16(const MatrixView& w, std::int64_t r, float* out) {
  const std::uint8_t* p = w.row(r);
  for (std::int64_t i = 0; i < w.cols; ++i) out[i] = bf16_to_f32(load_u16(p + 2 * i));
}
void dequant_q8_0(const MatrixView& w, std::int64_t r, float* out) {
  const std::uint8_t* p = w.row(r);
  for (std::int64_t b = 0; b < w.cols / 32; ++b, p += 34) {
    const float d = f16_to_f32(load_u16(p));
    for (int j = 0; j < 32; ++j) out[b * 32 + j] = d * static_cast<float>(static_cast<std::int8_t>(p[2 + j]));
  }
}
void dequant_mxfp4_hf(const MatrixView& w, std::int64_t r, float* out) {
  const std::uint8_t* q = w.row(r);
  const std::uint8_t* s = w.row_scales(r);
  for (std::int64_t b = 0; b < w.cols / 32; ++b) {
    const float scale = e8m0_to_f32(s[b]);
    for (int k = 0; k < 16; ++k) {
      const std::uint8_t byte = q[b * 16 + k];
      out[b * 32 + 2 * k] = kFp4E2M1Values[byte & 15] * scale;
      out[b * 32 + 2 * k + 1] = kFp4E2M1Values[byte >> 4] * scale;
    }
  }
}
void dequant_mxfp4_ggml(const MatrixView& w, std::int64_t r, float* out) {
  const std::uint8_t* p = w.row(r);
  for (std::int64_t b = 0; b < w.cols / 32; ++b, p += 17) {
    const float scale = e8m0_to_f32(p[0]);
    for (int j = 0; j < 16; ++j) {
      out[b * 32 + j] = kFp4E2M1Values[p[1 + j] & 15] * scale;
      out[b * 32 + 16 + j] = kFp4E2M1Values[p[1 + j] >> 4] * scale;
    }
  }
}

float dot_f32(const float* a, const float* b, std::int64_t n) {
  // Four partial sums: faster, and closer to the blocked sums of BLAS.
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

void axpy(float a, const float* x, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void dot4_f32(const float* rows, const float* x, std::int64_t n, float* out) {
  for (int r = 0; r < 4; ++r) out[r] = dot_f32(rows + r * n, x, n);
}

void dot4x3_f32(const float* rows, const float* x, std::int64_t x_stride, std::int64_t n, float* out) {
  for (int t = 0; t < 3; ++t) dot4_f32(rows, x + t * x_stride, n, out + 4 * t);
}

void group_scores(const float* q, int heads, int dim, const KvRows& rows, float scale, float* scores, float* max) {
  for (int h = 0; h < heads; ++h) {
    float m = -std::numeric_limits<float>::infinity();
    for (int j = 0; j < rows.n; ++j) {
      const float s = dot_f32(q + static_cast<std::ptrdiff_t>(h) * dim, rows.keys[j], dim) * scale;
      scores[static_cast<std::ptrdiff_t>(h) * rows.n + j] = s;
      m = std::max(m, s);
    }
    max[h] = m;
  }
}

void group_values(const float* p, int heads, int dim, const KvRows& rows, float* out) {
  std::fill(out, out + static_cast<std::ptrdiff_t>(heads) * dim, 0.0f);
  for (int h = 0; h < heads; ++h)
    for (int j = 0; j < rows.n; ++j)
      axpy(p[static_cast<std::ptrdiff_t>(h) * rows.n + j], rows.values[j], out + h * dim, dim);
}

double exp_shifted_sum(float* x, std::int64_t n, float shift) {
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - shift);
    sum += x[i];
  }
  return sum;
}

// Dot products through a row-sized stack buffer (rows are at most a few
// thousand wide; larger ones are processed in 32-aligned slices).
template <DequantFn Dequant>
float dot_via_dequant(const MatrixView& w, std::int64_t r, const float* x) {
  constexpr std::int64_t kSlice = 4096;
  if (w.cols <= kSlice) {
    float buf[kSlice];
    Dequant(w, r, buf);
    return dot_f32(buf, x, w.cols);
  }
  std::vector<float> buf(static_cast<std::size_t>(w.cols));
  Dequant(w, r, buf.data());
  return dot_f32(buf.data(), x, w.cols);
}

float dot_f32_row(const MatrixView& w, std::int64_t r, const float* x) {
  return dot_f32(reinterpret_cast<const float*>(w.row(r)), x, w.cols);
}

}  // namespace

const Kernels& portable_kernels() {
  static const Kernels k = {
      "portable",
      {dot_f32_row, dot_via_dequant<dequant_f16>, dot_via_dequant<dequant_bf16>, dot_via_dequant<dequant_q8_0>,
       dot_via_dequant<dequant_mxfp4_hf>, dot_via_dequant<dequant_mxfp4_ggml>},
      {dequant_f32, dequant_f16, dequant_bf16, dequant_q8_0, dequant_mxfp4_hf, dequant_mxfp4_ggml},
      dot_f32,
      axpy,
      dot4_f32,
      dot4x3_f32,
      group_scores,
      group_values,
      exp_shifted_sum,
  };
  return k;
}

namespace {

bool cpu_has_avx512() {
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vl");
#else
  return false;  // MSVC and other CPUs: the AVX2 or portable kernels serve
#endif
}

}  // namespace

// Here, not in kernels_avx512.cpp: code compiled for AVX-512 may use it
// anywhere, the copy of the table included, so the check must run first.
const Kernels* avx512_kernels() {
  static const Kernels* const chosen = []() -> const Kernels* {
    const Kernels* avx2 = avx2_kernels();
    if (!avx2 || !cpu_has_avx512()) return nullptr;
    static Kernels table = *avx2;
    install_avx512_block_kernels(table);
    return &table;
  }();
  return chosen;
}

const Kernels& cpu_kernels() {
  static const Kernels* chosen = [] {
    const char* cap = std::getenv("OSSDESK_CPU_KERNELS");
    const std::string_view most = cap ? cap : "";
    if (most == "portable") return &portable_kernels();
    if (most != "avx2")
      if (const Kernels* k = avx512_kernels()) return k;
    if (const Kernels* k = avx2_kernels()) return k;
    return &portable_kernels();
  }();
  return *chosen;
}

}  // namespace ossdesk::cpu

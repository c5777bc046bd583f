// AVX-512 kernels (x86-64 with AVX-512 F, BW, DQ and VL: Zen 4 and later,
// Intel Xeon since Skylake-SP, Ice/Tiger Lake). They replace the AVX2 ones
// for the block formats, where the AVX2 loop spends most of its instructions
// turning codes into floats: here one 16-entry permute looks up sixteen FP4
// values at once (the AVX2 path needs a byte shuffle, a sign extension and a
// conversion per eight), and one extension + conversion turns sixteen Q8_0
// codes into floats. The other formats keep the AVX2 kernels, whose loops
// are bound by loads, not by instructions. Compiled with those instruction
// sets enabled, so nothing here runs before avx512_kernels()
// (kernels_portable.cpp, plain flags) has checked the running CPU.
#include "backends/cpu/kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
// GCC 12's AVX-512 conversions start from a self-initialized "undefined"
// vector, which -Wuninitialized reports in the header once they are inlined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <cstring>

#include "util/half.h"

namespace ossdesk::cpu {
namespace {

// The sixteen E2M1 values, code order (bit 3 the sign): a permute takes the
// low four bits of each index, so a byte's low nibble needs no masking.
inline __m512 fp4_values() {
  return _mm512_setr_ps(0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f, -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f);
}

struct ScaleTable {
  float v[256];
  ScaleTable() {
    for (int e = 0; e < 256; ++e) v[e] = e8m0_to_f32(static_cast<std::uint8_t>(e));
  }
};
const ScaleTable& e8m0_scales() {
  static const ScaleTable t;
  return t;
}

// A block's 32 values as two vectors in element order: `first` elements
// 0..15, `second` 16..31.
struct Block {
  __m512 first, second;
};

// ggml packing: the low nibbles are elements 0..15, the high ones 16..31.
inline Block unpack_ggml(const std::uint8_t* codes) {
  const __m512i bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes)));
  return {_mm512_permutexvar_ps(bytes, fp4_values()), _mm512_permutexvar_ps(_mm512_srli_epi32(bytes, 4), fp4_values())};
}

// Hugging Face packing: byte k holds element 2k (low nibble) and 2k + 1
// (high); the even and odd values are interleaved back into order.
inline Block unpack_hf(const std::uint8_t* codes) {
  const __m512i bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes)));
  const __m512 even = _mm512_permutexvar_ps(bytes, fp4_values());
  const __m512 odd = _mm512_permutexvar_ps(_mm512_srli_epi32(bytes, 4), fp4_values());
  const __m512i low_half = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i high_half = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  return {_mm512_permutex2var_ps(even, low_half, odd), _mm512_permutex2var_ps(even, high_half, odd)};
}

// Q8_0: the 32 int8 codes as floats.
inline Block unpack_q8_0(const std::uint8_t* codes) {
  return {_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes)))),
          _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + 16))))};
}
// Like kernels_avx2.cpp's, on purpose not shared through a header: an inline
// function that files built for different instruction sets both define may be
// linked once, from the wider build, and then fault on the narrower CPU.
inline float q8_scale(const std::uint8_t* block) {
  std::uint16_t d;
  std::memcpy(&d, block, 2);
  return _cvtsh_ss(d);
}

// One row of a block format: where its blocks' codes and scales are, and how
// codes become values. Built once per row, so the loops below, which serve
// all three formats, look up nothing else per block.
struct HfRow {  // codes: 16 bytes per block in the row; scales: a separate row
  const std::uint8_t* q;
  const std::uint8_t* s;
  const float* table = e8m0_scales().v;
  HfRow(const MatrixView& w, std::int64_t r) : q(w.row(r)), s(w.row_scales(r)) {}
  const std::uint8_t* codes(std::int64_t b) const { return q + b * 16; }
  float scale(std::int64_t b) const { return table[s[b]]; }
  static Block unpack(const std::uint8_t* c) { return unpack_hf(c); }
};
struct GgmlRow {  // 17-byte blocks: scale byte, then 16 bytes of codes
  const std::uint8_t* p;
  const float* table = e8m0_scales().v;
  GgmlRow(const MatrixView& w, std::int64_t r) : p(w.row(r)) {}
  const std::uint8_t* codes(std::int64_t b) const { return p + b * 17 + 1; }
  float scale(std::int64_t b) const { return table[p[b * 17]]; }
  static Block unpack(const std::uint8_t* c) { return unpack_ggml(c); }
};
struct Q8Row {  // 34-byte blocks: f16 scale, then 32 int8 codes
  const std::uint8_t* p;
  Q8Row(const MatrixView& w, std::int64_t r) : p(w.row(r)) {}
  const std::uint8_t* codes(std::int64_t b) const { return p + b * 34 + 2; }
  float scale(std::int64_t b) const { return q8_scale(p + b * 34); }
  static Block unpack(const std::uint8_t* c) { return unpack_q8_0(c); }
};

inline __m512 block_dot(const Block& v, const float* x) {
  return _mm512_fmadd_ps(v.second, _mm512_loadu_ps(x + 16), _mm512_mul_ps(v.first, _mm512_loadu_ps(x)));
}

template <typename Row>
float dot_blocks(const MatrixView& w, std::int64_t r, const float* x) {
  const Row row(w, r);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  const std::int64_t nb = w.cols / 32;
  std::int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {  // two independent accumulators hide the FMA latency
    const Block v0 = Row::unpack(row.codes(b)), v1 = Row::unpack(row.codes(b + 1));
    acc0 = _mm512_fmadd_ps(block_dot(v0, x + b * 32), _mm512_set1_ps(row.scale(b)), acc0);
    acc1 = _mm512_fmadd_ps(block_dot(v1, x + (b + 1) * 32), _mm512_set1_ps(row.scale(b + 1)), acc1);
  }
  if (b < nb) acc0 = _mm512_fmadd_ps(block_dot(Row::unpack(row.codes(b)), x + b * 32), _mm512_set1_ps(row.scale(b)), acc0);
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

template <typename Row>
void dequant_blocks(const MatrixView& w, std::int64_t r, float* out) {
  const Row row(w, r);
  const std::int64_t nb = w.cols / 32;
  for (std::int64_t b = 0; b < nb; ++b) {
    const Block v = Row::unpack(row.codes(b));
    const __m512 s = _mm512_set1_ps(row.scale(b));
    _mm512_storeu_ps(out + b * 32, _mm512_mul_ps(v.first, s));
    _mm512_storeu_ps(out + b * 32 + 16, _mm512_mul_ps(v.second, s));
  }
}

}  // namespace

// Only the block formats' entries and the name change; everything else stays
// as the caller copied it from the AVX2 set.
void install_avx512_block_kernels(Kernels& k) {
  k.name = "avx512";
  const auto q8 = static_cast<int>(WeightFormat::Q8_0), hf = static_cast<int>(WeightFormat::MXFP4_HF),
             ggml = static_cast<int>(WeightFormat::MXFP4_GGML);
  k.dot[q8] = dot_blocks<Q8Row>;
  k.dequant[q8] = dequant_blocks<Q8Row>;
  k.dot[hf] = dot_blocks<HfRow>;
  k.dequant[hf] = dequant_blocks<HfRow>;
  k.dot[ggml] = dot_blocks<GgmlRow>;
  k.dequant[ggml] = dequant_blocks<GgmlRow>;
}

}  // namespace ossdesk::cpu

#else

namespace ossdesk::cpu {
void install_avx512_block_kernels(Kernels&) {}  // never called: avx512_kernels() finds no AVX-512 here
}  // namespace ossdesk::cpu

#endif

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

struct HfBlocks {  // codes: 16 bytes per block in the row; scales: a separate row
  static const std::uint8_t* codes(const MatrixView& w, std::int64_t r, std::int64_t b) { return w.row(r) + b * 16; }
  static std::uint8_t scale(const MatrixView& w, std::int64_t r, std::int64_t b) { return w.row_scales(r)[b]; }
  static Block unpack(const std::uint8_t* codes) { return unpack_hf(codes); }
};
struct GgmlBlocks {  // 17-byte blocks: scale byte, then 16 bytes of codes
  static const std::uint8_t* codes(const MatrixView& w, std::int64_t r, std::int64_t b) { return w.row(r) + b * 17 + 1; }
  static std::uint8_t scale(const MatrixView& w, std::int64_t r, std::int64_t b) { return w.row(r)[b * 17]; }
  static Block unpack(const std::uint8_t* codes) { return unpack_ggml(codes); }
};

inline __m512 block_dot(const Block& v, const float* x) {
  return _mm512_fmadd_ps(v.second, _mm512_loadu_ps(x + 16), _mm512_mul_ps(v.first, _mm512_loadu_ps(x)));
}

template <typename Blocks>
float dot_mxfp4(const MatrixView& w, std::int64_t r, const float* x) {
  const float* scales = e8m0_scales().v;
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  const std::int64_t nb = w.cols / 32;
  std::int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {  // two independent accumulators hide the FMA latency
    const Block v0 = Blocks::unpack(Blocks::codes(w, r, b)), v1 = Blocks::unpack(Blocks::codes(w, r, b + 1));
    acc0 = _mm512_fmadd_ps(block_dot(v0, x + b * 32), _mm512_set1_ps(scales[Blocks::scale(w, r, b)]), acc0);
    acc1 = _mm512_fmadd_ps(block_dot(v1, x + (b + 1) * 32), _mm512_set1_ps(scales[Blocks::scale(w, r, b + 1)]), acc1);
  }
  if (b < nb)
    acc0 = _mm512_fmadd_ps(block_dot(Blocks::unpack(Blocks::codes(w, r, b)), x + b * 32), _mm512_set1_ps(scales[Blocks::scale(w, r, b)]), acc0);
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

inline void block_store(const Block& v, float scale, float* out) {
  const __m512 s = _mm512_set1_ps(scale);
  _mm512_storeu_ps(out, _mm512_mul_ps(v.first, s));
  _mm512_storeu_ps(out + 16, _mm512_mul_ps(v.second, s));
}

template <typename Blocks>
void dequant_mxfp4(const MatrixView& w, std::int64_t r, float* out) {
  const float* scales = e8m0_scales().v;
  const std::int64_t nb = w.cols / 32;
  for (std::int64_t b = 0; b < nb; ++b) block_store(Blocks::unpack(Blocks::codes(w, r, b)), scales[Blocks::scale(w, r, b)], out + b * 32);
}

// Q8_0: a 34-byte block, f16 scale then 32 int8 codes.
inline Block unpack_q8_0(const std::uint8_t* block) {
  return {_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2)))),
          _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 18))))};
}
// Like kernels_avx2.cpp's, on purpose not shared through a header: an inline
// function that files built for different instruction sets both define may be
// linked once, from the wider build, and then fault on the narrower CPU.
inline float q8_scale(const std::uint8_t* block) {
  std::uint16_t d;
  std::memcpy(&d, block, 2);
  return _cvtsh_ss(d);
}

float dot_q8_0(const MatrixView& w, std::int64_t r, const float* x) {
  const std::uint8_t* p = w.row(r);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  const std::int64_t nb = w.cols / 32;
  std::int64_t b = 0;
  for (; b + 2 <= nb; b += 2, p += 68) {
    acc0 = _mm512_fmadd_ps(block_dot(unpack_q8_0(p), x + b * 32), _mm512_set1_ps(q8_scale(p)), acc0);
    acc1 = _mm512_fmadd_ps(block_dot(unpack_q8_0(p + 34), x + (b + 1) * 32), _mm512_set1_ps(q8_scale(p + 34)), acc1);
  }
  if (b < nb) acc0 = _mm512_fmadd_ps(block_dot(unpack_q8_0(p), x + b * 32), _mm512_set1_ps(q8_scale(p)), acc0);
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

void dequant_q8_0(const MatrixView& w, std::int64_t r, float* out) {
  const std::uint8_t* p = w.row(r);
  for (std::int64_t b = 0; b < w.cols / 32; ++b, p += 34) block_store(unpack_q8_0(p), q8_scale(p), out + b * 32);
}

}  // namespace

// Only the block formats' entries and the name change; everything else stays
// as the caller copied it from the AVX2 set.
void install_avx512_block_kernels(Kernels& k) {
  k.name = "avx512";
  const auto q8 = static_cast<int>(WeightFormat::Q8_0), hf = static_cast<int>(WeightFormat::MXFP4_HF),
             ggml = static_cast<int>(WeightFormat::MXFP4_GGML);
  k.dot[q8] = dot_q8_0;
  k.dequant[q8] = dequant_q8_0;
  k.dot[hf] = dot_mxfp4<HfBlocks>;
  k.dequant[hf] = dequant_mxfp4<HfBlocks>;
  k.dot[ggml] = dot_mxfp4<GgmlBlocks>;
  k.dequant[ggml] = dequant_mxfp4<GgmlBlocks>;
}

}  // namespace ossdesk::cpu

#else

namespace ossdesk::cpu {
void install_avx512_block_kernels(Kernels&) {}  // never called: avx512_kernels() finds no AVX-512 here
}  // namespace ossdesk::cpu

#endif

// Tensor-core tiles for prefill (gemm.cu, moe_grouped.cu): a block of 4 warps
// computes a 64 x 64 tile of out[m][n] = sum_k in[m][k] * W[n][k] (m: tokens
// or expert assignments, n: weight rows) with the warp matrix API (wmma,
// 16 x 16 x 16, float accumulators), 32 columns of k per step: one MXFP4 or
// Q8_0 block, so a block's scale is read once.
//
// Precision (TensorPrecision, kernel_api.h). Weights are staged in a type that
// holds them exactly: BF16 and MXFP4 (an FP4 value times a power of two) in
// bf16, F16 in f16. Q8_0 (an f16 scale times an int8, up to 18 significant
// bits) is staged in f16 as hi + lo. Split: the float input is split the same
// way, in = hi + lo (once per chunk, by tensor_rows() in tensor_rows.cu, so
// the tiles copy it as it is), and the products are lo.w + hi.w (exact weights) or
// lo.w_hi + hi.w_lo + hi.w_hi (Q8_0), so the input keeps about 16 significant
// bits where one bf16 would keep 8, and the logits stay as close to the float
// reference as the matrix-vector path's. Single: one product, hi.w_hi, with
// 8 (bf16) or 11 (f16) significant bits of input, as other engines run their
// prefill; a half or a third of the tensor-core work.
#pragma once

#include "common.cuh"

#ifndef OSSDESK_CUDA_EMULATOR
#include <mma.h>
#endif

namespace ossdesk::cuda::tc {

namespace wmma = nvcuda::wmma;

constexpr int kTileM = 64;       // input rows per block
constexpr int kTileN = 64;       // weight rows per block
constexpr int kTileK = 32;       // columns per step
constexpr int kThreads = 128;    // 4 warps, each a 32 x 32 quarter of the tile
// Blocks an SM should hold (__launch_bounds__), so the register budget leaves
// room for 5 (20 warps) to hide each other's waits: 17-20 KB of shared memory
// each (Tiles), so 5 fit in sm_86/89's 100 KB as well as in sm_90's 228 KB.
constexpr int kMinBlocksPerSm = 5;
constexpr int kLd = kTileK + 8;  // staged row stride in elements: a multiple of 8 (wmma), padded against bank conflicts
constexpr int kOutLd = kTileN + 4;

// MXFP4 expert rows, as a format of the weight tile.
constexpr int kExpertFp4 = 16;

// The type a weight format is staged and multiplied in, and whether one value
// of it holds a weight exactly (else the weight is staged as hi + lo).
template <int FORMAT>
struct Operand {
  using type = __nv_bfloat16;  // BF16 and MXFP4
  static constexpr bool exact = true;
};
template <>
struct Operand<kDenseF16> {
  using type = __half;
  static constexpr bool exact = true;
};
template <>
struct Operand<kDenseQ8> {
  using type = __half;
  static constexpr bool exact = false;
};

// Two floats rounded to nearest (even) in T by one conversion (cvt.rn.bf16x2
// / f16x2, sm_80+).
__device__ __forceinline__ __nv_bfloat162 rounded_pair(float a, float b, __nv_bfloat16) { return __floats2bfloat162_rn(a, b); }
__device__ __forceinline__ __half2 rounded_pair(float a, float b, __half) { return __floats2half2_rn(a, b); }

// The same as the 32-bit word that holds them (a in the low half); `ra`, `rb`
// are the rounded values, from which the lo halves are taken.
template <typename T>
__device__ __forceinline__ unsigned round_pair(float a, float b, float& ra, float& rb) {
  const auto pair = rounded_pair(a, b, T{});
  ra = __low2float(pair);
  rb = __high2float(pair);
  unsigned word;
  memcpy(&word, &pair, sizeof word);
  return word;
}

// a and b rounded to nearest in T, as a word of a T pair (a in the low half),
// and, when kSplit, what that leaves of each, rounded in turn, into `lo` (left
// alone otherwise): the split of the tensor-core products' operands.
template <typename T, bool kSplit>
__device__ __forceinline__ unsigned round_split(float a, float b, unsigned& lo) {
  float ra, rb;
  const unsigned hi = round_pair<T>(a, b, ra, rb);
  if constexpr (kSplit) lo = round_pair<T>(a - ra, b - rb, ra, rb);
  return hi;
}

// Stages a thread's 16 values, values(i) for i = 0..15, rounded to T into
// hi[0..15] and, when kSplit, what the rounding left of each (rounded to T in
// turn) into lo[0..15]. The rounded pairs are packed in registers and written
// 8 values to a 16-byte store (hi, lo: 16-byte aligned), as 16 scalar 16-bit
// stores would each be a shared-memory instruction, with bank conflicts, every
// step. A half at a time, so no more than 8 words wait in registers.
template <typename T, bool kSplit, typename Values>
__device__ __forceinline__ void stage_rounded(const Values& values, T* hi, T* lo) {
  for (int half = 0; half < 2; ++half) {
    unsigned hi_words[4], lo_words[4];
    for (int p = 0; p < 4; ++p) {
      hi_words[p] = round_split<T, kSplit>(values(8 * half + 2 * p), values(8 * half + 2 * p + 1), lo_words[p]);
    }
    reinterpret_cast<uint4*>(hi)[half] = make_uint4(hi_words[0], hi_words[1], hi_words[2], hi_words[3]);
    if constexpr (kSplit) reinterpret_cast<uint4*>(lo)[half] = make_uint4(lo_words[0], lo_words[1], lo_words[2], lo_words[3]);
  }
}

// Zeros (+0 in bf16 and f16) in a thread's 16 staged values (dst: 16-byte aligned).
template <typename T>
__device__ __forceinline__ void stage_zeros(T* dst) {
  reinterpret_cast<uint4*>(dst)[0] = make_uint4(0u, 0u, 0u, 0u);
  reinterpret_cast<uint4*>(dst)[1] = make_uint4(0u, 0u, 0u, 0u);
}

// A block's shared memory (wmma pointers must be 256-bit aligned).
// kSplitInput: the input is staged as hi + lo; kSplitWeights: the weights too.
// The operands of a step and the finished tile share the same bytes (the tile
// is stored once the last step's products are done), so a block takes 17-20
// KB, not 33-38: an sm_86/89 SM (100 KB) holds 4-5 blocks rather than 2.
template <typename T, bool kSplitInput, bool kSplitWeights>
struct alignas(32) Tiles {
  using Operand = T;
  static constexpr bool split_input = kSplitInput, split_weights = kSplitWeights;
  struct Staged {
    T in_hi[kTileM * kLd];                      // input rows [m][k] ...
    T in_lo[kSplitInput ? kTileM * kLd : 16];   // ... and what in_hi leaves of them
    T w[kTileN * kLd];                          // weight rows [n][k]: wmma's matrix_b in column-major order ...
    T w_lo[kSplitWeights ? kTileN * kLd : 16];  // ... and what w leaves of them
  };
  union {
    Staged staged;               // while multiply_tile runs
    float out[kTileM * kOutLd];  // when it has returned
  };
};
template <int FORMAT, bool kSplit>
using DenseTiles = Tiles<typename Operand<FORMAT>::type, kSplit, kSplit && !Operand<FORMAT>::exact>;
template <bool kSplit>
using Fp4Tiles = Tiles<__nv_bfloat16, kSplit, false>;

// Where a thread stages its share of a tile: 16 values of row threadIdx.x / 2.
__device__ __forceinline__ int staged_row() { return threadIdx.x >> 1; }
__device__ __forceinline__ int staged_col() { return (threadIdx.x & 1) * 16; }

// Staging is split in two so a step's global loads are in flight while the
// step before multiplies: a loader's load(k0) reads the thread's share at
// column k0 into registers, its store(s) converts them into the shared tile.

// The thread's 16 input values of its row, as tensor_rows() rounded them
// (kernel_api.h): rows[m] is row m's hi, its lo cols values on; null past the
// end: zeros. Copied as they are, two or four 16-byte words, as the rounding
// was done once for the chunk rather than by every block of the GEMM.
template <typename T, bool kSplit>
struct InputLoader {
  const T* hi;
  int cols;
  uint4 words[kSplit ? 4 : 2];  // hi, then lo

  __device__ InputLoader(const T* const* rows, int cols) : hi(rows[staged_row()]), cols(cols) {}
  __device__ __forceinline__ void load(int k0) {
    if (!hi) {
      for (uint4& w : words) w = make_uint4(0u, 0u, 0u, 0u);
      return;
    }
    const uint4* src = reinterpret_cast<const uint4*>(hi + k0 + staged_col());
    words[0] = src[0];
    words[1] = src[1];
    if constexpr (kSplit) {
      const uint4* lo = reinterpret_cast<const uint4*>(hi + cols + k0 + staged_col());
      words[2] = lo[0];
      words[3] = lo[1];
    }
  }
  template <typename Tiles>
  __device__ __forceinline__ void store(Tiles& s) const {
    static_assert(Tiles::split_input == kSplit, "the input is staged as it was rounded");
    const int at = staged_row() * kLd + staged_col();
    reinterpret_cast<uint4*>(s.staged.in_hi + at)[0] = words[0];
    reinterpret_cast<uint4*>(s.staged.in_hi + at)[1] = words[1];
    if constexpr (kSplit) {
      reinterpret_cast<uint4*>(s.staged.in_lo + at)[0] = words[2];
      reinterpret_cast<uint4*>(s.staged.in_lo + at)[1] = words[3];
    }
  }
};

// The thread's 16 weights of dense row r (r < 0: zeros).
template <int FORMAT>
struct DenseWeightLoader {
  using T = typename Operand<FORMAT>::type;
  const std::uint8_t* row;
  int cols;
  uint4 words[2];
  float scale;  // Q8_0: the block's

  __device__ DenseWeightLoader(const DenseMatrix& w, int r)
      : row(r < 0 ? nullptr : w.data + static_cast<std::uint64_t>(r) * w.row_stride), cols(w.cols) {}
  __device__ __forceinline__ void load(int k0) {
    if (!row) return;
    if constexpr (FORMAT == kDenseQ8) {
      scale = __half2float(reinterpret_cast<const __half*>(row + cols)[k0 / 32]);
      words[0] = *reinterpret_cast<const uint4*>(row + k0 + staged_col());
    } else {  // BF16 or F16: 32 bytes, stored as they are
      const uint4* src = reinterpret_cast<const uint4*>(row + static_cast<std::size_t>(k0 + staged_col()) * 2);
      words[0] = src[0];
      words[1] = src[1];
    }
  }
  template <bool kSplit>
  __device__ __forceinline__ void store(DenseTiles<FORMAT, kSplit>& s) const {
    constexpr bool split_weights = DenseTiles<FORMAT, kSplit>::split_weights;
    const int at = staged_row() * kLd + staged_col();  // w_lo is a 16-value stub unless split
    T* dst = s.staged.w + at;
    if (!row) {
      stage_zeros(dst);
      if constexpr (split_weights) stage_zeros(s.staged.w_lo + at);
      return;
    }
    if constexpr (FORMAT == kDenseQ8) {
      const unsigned packed[4] = {words[0].x, words[0].y, words[0].z, words[0].w};
      float codes[4][4];
      for (int q = 0; q < 4; ++q) int8x4_to_float(packed[q], codes[q]);
      const auto value = [&](int i) { return scale * codes[i / 4][i % 4]; };  // exact in float
      T* lo = nullptr;
      if constexpr (split_weights) lo = s.staged.w_lo + at;
      stage_rounded<T, split_weights>(value, dst, lo);
    } else {
      reinterpret_cast<uint4*>(dst)[0] = words[0];
      reinterpret_cast<uint4*>(dst)[1] = words[1];
    }
  }
};

// The thread's 16 weights of row r of expert e (r < 0: zeros), FP4 times the
// block's E8M0 scale: exact in bf16, decoded straight to bf16 pairs
// (fp4x4_to_bf16x2), so the decode costs a few integer operations a weight.
struct Fp4WeightLoader {
  const std::uint8_t* nibbles;  // the row's
  const std::uint8_t* scales;   // the row's
  uint2 packed;
  unsigned scale_pair;  // the block's scale as bf16x2

  __device__ Fp4WeightLoader(const ExpertMatrices& m, int e, int r) : nibbles(nullptr), scales(nullptr) {
    if (r < 0) return;
    const std::size_t row = static_cast<std::size_t>(e) * m.rows + r;
    nibbles = m.nibbles + row * (m.cols / 2);
    scales = m.scales + row * (m.cols / 32);
  }
  __device__ __forceinline__ void load(int k0) {
    if (!nibbles) return;
    packed = *reinterpret_cast<const uint2*>(nibbles + (k0 + staged_col()) / 2);
    scale_pair = e8m0_bf16x2(scales[k0 / 32]);
  }
  template <bool kSplit>
  __device__ __forceinline__ void store(Fp4Tiles<kSplit>& s) const {
    __nv_bfloat16* dst = s.staged.w + staged_row() * kLd + staged_col();
    if (!nibbles) {
      stage_zeros(dst);
      return;
    }
    const unsigned codes[2] = {packed.x, packed.y};  // weights 0-7, 8-15 of the thread's 16
    for (int half = 0; half < 2; ++half) {
      unsigned w[4];
      fp4x4_to_bf16x2(codes[half], scale_pair, w[0], w[1]);
      fp4x4_to_bf16x2(codes[half] >> 16, scale_pair, w[2], w[3]);
      reinterpret_cast<uint4*>(dst)[half] = make_uint4(w[0], w[1], w[2], w[3]);
    }
  }
};

// s.out = in . W^T over `cols` columns (a multiple of kTileK), the input rows
// as tensor_rows() laid them out (rows[m]: row m's hi; null: zeros). Every
// thread of the block calls it; `weights` loads and stores the thread's share of the
// weight tile. s.out is complete when it returns.
//
// Software pipelined over one shared buffer: the loads of step k0 + kTileK are
// issued before the products of step k0 and land in shared memory after them,
// so the memory latency hides behind the tensor-core work rather than adding
// to it (two barriers a step: one before the buffer is overwritten, one before
// it is read).
template <typename T, bool kSplitInput, bool kSplitWeights, typename WeightLoader>
__device__ __forceinline__ void multiply_tile(Tiles<T, kSplitInput, kSplitWeights>& s, const T* const* rows, int cols,
                                              WeightLoader& weights) {
  const int warp = threadIdx.x >> 5;
  const int wm = (warp & 1) * 32, wn = (warp >> 1) * 32;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.0f);
  InputLoader<T, kSplitInput> input(rows, cols);
  input.load(0);
  weights.load(0);
  input.store(s);
  weights.store(s);
  __syncthreads();
  for (int k0 = 0; k0 < cols; k0 += kTileK) {
    const bool more = k0 + kTileK < cols;
    if (more) {
      input.load(k0 + kTileK);
      weights.load(k0 + kTileK);
    }
    for (int kk = 0; kk < kTileK; kk += 16) {
      wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> w[2], w_lo[kSplitWeights ? 2 : 1];
      for (int j = 0; j < 2; ++j) wmma::load_matrix_sync(w[j], s.staged.w + (wn + 16 * j) * kLd + kk, kLd);
      if constexpr (kSplitWeights)
        for (int j = 0; j < 2; ++j) wmma::load_matrix_sync(w_lo[j], s.staged.w_lo + (wn + 16 * j) * kLd + kk, kLd);
      for (int i = 0; i < 2; ++i) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> hi, lo;
        wmma::load_matrix_sync(hi, s.staged.in_hi + (wm + 16 * i) * kLd + kk, kLd);
        if constexpr (kSplitInput) wmma::load_matrix_sync(lo, s.staged.in_lo + (wm + 16 * i) * kLd + kk, kLd);
        for (int j = 0; j < 2; ++j) {  // the small terms first
          if constexpr (kSplitInput) wmma::mma_sync(acc[i][j], lo, w[j], acc[i][j]);
          if constexpr (kSplitWeights) wmma::mma_sync(acc[i][j], hi, w_lo[j], acc[i][j]);
          wmma::mma_sync(acc[i][j], hi, w[j], acc[i][j]);
        }
      }
    }
    if (!more) break;
    __syncthreads();  // every warp is done reading this step's tiles
    input.store(s);
    weights.store(s);
    __syncthreads();
  }
  __syncthreads();  // s.out takes the staged operands' bytes: every warp is done reading them
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      wmma::store_matrix_sync(s.out + (wm + 16 * i) * kOutLd + wn + 16 * j, acc[i][j], kOutLd, wmma::mem_row_major);
  __syncthreads();
}

}  // namespace ossdesk::cuda::tc

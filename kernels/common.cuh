// Helpers shared by the CUDA kernels: weight formats as the CUDA backend
// uploads them (cuda_weights.h), warp and block reductions, and the FP4 table.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernel_api.h"

// Fully unrolls the loop that follows under nvcc, so that arrays indexed by
// its counter stay in registers rather than local memory (nvcc's own choice
// depends on the loop body's size); nothing under the emulator.
#ifdef OSSDESK_CUDA_EMULATOR
#define OSSDESK_UNROLL
#else
#define OSSDESK_UNROLL _Pragma("unroll")
#endif

namespace ossdesk::cuda {

// Enqueues kernel<<<grid, block, 0, s>>>(args...), or with programmatic
// dependent launch when set_programmatic_launch(true) was called (see
// await_previous_kernel). Under the CPU emulator (tests/cuda_emu) the same call
// runs the kernel's threads as fibers, which is how CI, with no GPU, runs
// these kernels.
template <typename... Params, typename... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, cudaStream_t s, Args... args) {
#ifdef OSSDESK_CUDA_EMULATOR
  ossdesk_emu::launch(kernel, grid, block, s, args...);
#else
  if (programmatic_launch()) {
    cudaLaunchAttribute early{};
    early.id = cudaLaunchAttributeProgrammaticStreamSerialization;
    early.val.programmaticStreamSerializationAllowed = 1;
    cudaLaunchConfig_t config{};
    config.gridDim = grid;
    config.blockDim = block;
    config.stream = s;
    config.attrs = &early;
    config.numAttrs = 1;
    cudaLaunchKernelEx(&config, kernel, static_cast<Params>(args)...);  // a failure shows in cudaGetLastError, as <<<>>>'s
    return;
  }
  kernel<<<grid, block, 0, s>>>(static_cast<Params>(args)...);
#endif
}

// Calls body(DenseFormat<F>{}) with the dense format `format` (kDenseF32 ..
// kDenseQ8) as a compile-time constant, decltype(f)::value in the body: one
// instantiation of a kernel per stored format, picked at launch.
template <int FORMAT>
using DenseFormat = std::integral_constant<int, FORMAT>;
template <typename Body>
void with_dense_format(int format, Body body) {
  switch (format) {
    case kDenseF32: body(DenseFormat<kDenseF32>{}); break;
    case kDenseF16: body(DenseFormat<kDenseF16>{}); break;
    case kDenseBF16: body(DenseFormat<kDenseBF16>{}); break;
    default: body(DenseFormat<kDenseQ8>{}); break;
  }
}

// Every kernel calls this first, before it reads or writes global memory.
// With programmatic dependent launch (sm_90 and later) a kernel's blocks may
// start while the kernel before it in the stream still runs, so its launch
// and scheduling hide behind that kernel's tail: here it waits until that
// kernel has finished and its writes are visible, then lets the next kernel
// start launching in turn. Without it (older GPUs, the switch off) the stream
// already ordered the kernels and this costs nothing. The emulator fails a
// launch whose kernel never calls it.
__device__ __forceinline__ void await_previous_kernel() {
#if defined(OSSDESK_CUDA_EMULATOR)
  ossdesk_emu::awaited_previous_kernel();
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over the whole block (blockDim.x a multiple of 32, at most 1024); every
// thread must call it; every thread gets the total.
__device__ __forceinline__ float block_sum(float v) {
  __shared__ float partial[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // the previous call's readers are done with `partial`
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  float t = threadIdx.x < (blockDim.x >> 5) ? partial[threadIdx.x] : 0.0f;
  if (warp == 0) t = warp_sum(t);
  if (threadIdx.x == 0) partial[0] = t;
  __syncthreads();
  return partial[0];
}

__device__ __forceinline__ float block_max(float v) {
  __shared__ float partial[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  float t = threadIdx.x < (blockDim.x >> 5) ? partial[threadIdx.x] : -3.0e38f;
  if (warp == 0) t = warp_max(t);
  if (threadIdx.x == 0) partial[0] = t;
  __syncthreads();
  return partial[0];
}

// Element c of a dense row of `cols` in its device format (Q8_0: the int8
// codes, then one f16 scale per 32; kernel_api.h).
template <int FORMAT>
__device__ __forceinline__ float dense_at(const std::uint8_t* row, int c, int cols) {
  if constexpr (FORMAT == kDenseF32) {
    return reinterpret_cast<const float*>(row)[c];
  } else if constexpr (FORMAT == kDenseF16) {
    return __half2float(reinterpret_cast<const __half*>(row)[c]);
  } else if constexpr (FORMAT == kDenseBF16) {
    return __bfloat162float(reinterpret_cast<const __nv_bfloat16*>(row)[c]);
  } else {
    const float d = __half2float(reinterpret_cast<const __half*>(row + cols)[c >> 5]);
    return d * static_cast<float>(static_cast<std::int8_t>(row[c]));
  }
}

// The KV-cache slot of a position: position % ring in a ring (ring > 0), else the position.
__device__ __forceinline__ std::size_t kv_slot(int position, int ring) {
  return static_cast<std::size_t>(ring > 0 ? position % ring : position);
}

// Up to kMaxMatvecParts dense products sharing one input, as one launch sees
// them (dense.cu's matvec_fused, qkv_rope.cu).
struct MatvecParts {
  MatvecPart part[kMaxMatvecParts];
  int first_row[kMaxMatvecParts + 1];  // part p owns rows [first_row[p], first_row[p + 1])
  int count;
};

inline MatvecParts matvec_parts(const MatvecPart* parts, int count) {
  MatvecParts all{};
  all.count = count;
  for (int p = 0; p < count; ++p) {
    all.part[p] = parts[p];
    all.first_row[p + 1] = all.first_row[p] + parts[p].w.rows;
  }
  return all;
}

// YaRN RoPE of the pair (a, b) = (x[i], x[i + half]) of a head at `position`,
// with inv_freq[i], as cpu::YarnRope: a float angle, cos/sin in double, then
// the concentration.
__device__ __forceinline__ void rope_rotate(int position, float inv_freq, float concentration, float& a, float& b) {
  const float angle = static_cast<float>(position) * inv_freq;
  const float c = static_cast<float>(cos(static_cast<double>(angle))) * concentration;
  const float s = static_cast<float>(sin(static_cast<double>(angle))) * concentration;
  const float ra = a * c - b * s, rb = b * c + a * s;
  a = ra;
  b = rb;
}

// 1 / rms(row), as RMSNorm scales a row: rsqrt(mean of squares + eps). Every
// thread of the block calls it and gets it; the sum's order, and so its bits,
// depend on blockDim.x (rmsnorm() and the kernels that match it use 256).
__device__ __forceinline__ float inverse_rms(const float* row, int cols, float eps) {
  float ss = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) ss += row[c] * row[c];
  return rsqrtf(block_sum(ss) / static_cast<float>(cols) + eps);
}

// Stages row `x` (cols <= kMaxStagedCols) in shared memory `xs`, normalised by
// RMSNorm with `norm` when given: x / rms(x) * norm, in the same order of
// operations as rmsnorm(), so fused and separate give the same bits. Every
// thread of the block calls it; `xs` is complete when it returns.
__device__ __forceinline__ void stage_row(const float* x, int cols, const float* norm, float eps, float* xs) {
  for (int c = threadIdx.x; c < cols; c += blockDim.x) xs[c] = x[c];
  if (norm) {
    const float inv = inverse_rms(xs, cols, eps);  // each thread reads back only what it staged: no barrier needed
    for (int c = threadIdx.x; c < cols; c += blockDim.x) xs[c] = xs[c] * inv * norm[c];
  }
  __syncthreads();
}

// The four int8 bytes of `word` (first in the low byte) as exact floats
// without int-to-float conversions, which an SM retires 16 a clock (sm_8x,
// sm_90): a Q8_0 matrix-vector product at an H100's 3.35 TB/s needs 3.35e12 a
// second, about 80% of what the conversion units give. Instead each byte,
// biased to v + 128, becomes the low mantissa byte of 2^23 (a byte
// permutation), and one float subtraction of 2^23 + 128 on the float units
// leaves v.
__device__ __forceinline__ void int8x4_to_float(unsigned word, float (&values)[4]) {
  const unsigned biased = word ^ 0x80808080u;
  for (unsigned j = 0; j < 4; ++j)  // bytes: biased byte j, 0x00, 0x00, 0x4B
    values[j] = __uint_as_float(__byte_perm(biased, 0x4B000000u, 0x7440u | j)) - 8388736.0f;
}

// One lane's share of dot(row, x) over columns [first, end) of a dense row
// of `cols` in its stored format (Q8_0: first and end multiples of 32); a
// warp_sum of the 32 shares is the product.
template <int FORMAT>
__device__ __forceinline__ float row_slice_dot_share(const std::uint8_t* row, const float* x, int cols, int first, int end,
                                                     int lane) {
  float acc = 0.0f;
  if constexpr (FORMAT == kDenseQ8) {
    for (int b = first / 32 + lane; b < end / 32; b += 32) {  // a block's 32 codes in two 16-byte loads: a warp reads 1 KiB in a row
      const uint4* codes = reinterpret_cast<const uint4*>(row + b * 32);
      const uint4 lo = codes[0], hi = codes[1];
      const unsigned words[8] = {lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w};
      const float d = __half2float(reinterpret_cast<const __half*>(row + cols)[b]);
      const float* xb = x + b * 32;
      float s = 0.0f;
      for (int w = 0; w < 8; ++w) {
        const float4 xv = reinterpret_cast<const float4*>(xb)[w];  // x rows and staged rows are 16-byte aligned
        float v[4];
        int8x4_to_float(words[w], v);
        s += v[0] * xv.x + v[1] * xv.y + v[2] * xv.z + v[3] * xv.w;
      }
      acc += d * s;
    }
  } else {
    for (int c = first + lane; c < end; c += 32) acc += dense_at<FORMAT>(row, c, cols) * x[c];
  }
  return acc;
}

// The same over the whole row.
template <int FORMAT>
__device__ __forceinline__ float row_dot_share(const std::uint8_t* row, const float* x, int cols, int lane) {
  return row_slice_dot_share<FORMAT>(row, x, cols, 0, cols, lane);
}

// Whether the calling block is the last of `blocks` to get here on `counter`
// (a grid's blocks that each leave a share of a result, the last one to
// finish combining them). Every thread of the block calls it after its
// writes. The last block sees the others' writes, read through volatile (L1
// is not coherent), and resets the counter to zero, so the next launch (a
// graph replay) starts clean.
__device__ __forceinline__ bool last_block_to_arrive(std::uint32_t* counter, unsigned blocks) {
  __shared__ bool last;
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) {
    const unsigned ticket = atomicAdd(counter, 1u);
    last = ticket == blocks - 1;
    if (last) *counter = 0;
  }
  __syncthreads();
  if (last) __threadfence();
  return last;
}

// One warp quantizes one 32-value block, lane i holding value i: the scale is
// max |x| / 127, and code i goes to byte i (Q8Rows).
__device__ __forceinline__ void quantize_block(float v, int lane, std::int8_t* codes, float* scale) {
  const float d = warp_max(fabsf(v)) / 127.0f;
  const int code = d > 0.0f ? __float2int_rn(v / d) : 0;
  codes[lane] = static_cast<std::int8_t>(code);
  if (lane == 0) *scale = d;
}

// Four FP4 codes (the low 16 bits of `codes`, first code lowest) as four
// int8 of twice their value, first code in the low byte (for dp4a against
// activations in their order): the doubled magnitudes 0 1 2 3 4 6 8 12 and
// their negations picked by byte permutations on the codes' low 3 bits, then
// a third takes each byte from the negations where the code's bit 3, the
// sign, is set: 6 integer operations for 4 values.
__device__ __forceinline__ int fp4x4_doubled(unsigned codes) {
  const unsigned select = codes & 0x7777u;
  const unsigned positive = __byte_perm(0x03020100u, 0x0C080604u, select);
  const unsigned negative = __byte_perm(0xFDFEFF00u, 0xF4F8FAFCu, select);
  return static_cast<int>(__byte_perm(positive, negative, 0x3210u | (codes >> 1 & 0x4444u)));
}

// The bf16 bits of 2^(s - 127) (an E8M0 scale byte, s = 0 the subnormal
// 2^-127), twice: one bf16x2 word to multiply pairs of values by.
__device__ __forceinline__ unsigned e8m0_bf16x2(std::uint8_t s) {
  return (s ? static_cast<unsigned>(s) << 7 : 0x40u) * 0x00010001u;
}

// PTX prmt in its generic form: byte i of the result is byte (s >> 4i) & 7
// of y:x (x the low word), or, where bit 3 of that selector is set, the sign
// of that byte (its bit 7) in all 8 bits. __byte_perm is the same
// instruction with bit 3 cleared first (one more operation); here an FP4
// code, whose bit 3 is its sign, is a selector as it is. Inline PTX, with its
// twin in the CPU emulator (tests/cuda_emu/cuda_emu.h).
__device__ __forceinline__ unsigned prmt_sign_select(unsigned x, unsigned y, unsigned s) {
#if defined(OSSDESK_CUDA_EMULATOR)
  return ossdesk_emu::prmt(x, y, s);
#else
  unsigned r;
  asm("prmt.b32 %0, %1, %2, %3;" : "=r"(r) : "r"(x), "r"(y), "r"(s));
  return r;
#endif
}

// Four FP4 codes (the low 16 bits of `codes`, first code lowest) as two
// bf16x2 words (first value in the low half of `first`), exactly: the
// magnitudes' bf16 bytes (0 0.5 1 1.5 2 3 4 6: 0x0000 0x3F00 0x3F80 0x3FC0
// 0x4000 0x4040 0x4080 0x40C0) are picked by byte permutations on the codes'
// low 3 bits; a third, on the whole codes, gives 0x40 where a code is
// positive and 0x00 where its bit 3, the sign, is set (the sign of a 0x40
// byte), which shifted and complemented puts the signs into the high bytes
// (the shift can go to the multiply-add units); two more interleave them: 7
// integer operations for 4 values, where building each float's exponent
// and mantissa bit by bit took 7 a value.
// A matrix-vector product of MXFP4 weights runs at the memory's pace only if
// its decoding stays near 2.5 integer operations a weight (an H100 SM retires
// 64 a clock against 2 weights a byte at 3.35 TB/s over 132 SMs).
__device__ __forceinline__ void fp4x4_bf16_bits(unsigned codes, unsigned& first, unsigned& second) {
  const unsigned select = codes & 0x7777u;
  const unsigned low = __byte_perm(0xC0800000u, 0xC0804000u, select);
  const unsigned high = __byte_perm(0x3F3F3F00u, 0x40404040u, select);
  const unsigned positive = prmt_sign_select(0x40404040u, 0x40404040u, codes);  // 0x40 or, for a negative code, 0x00
  const unsigned signed_high = high | (~(positive << 1) & 0x80808080u);
  first = __byte_perm(low, signed_high, 0x5140u);
  second = __byte_perm(low, signed_high, 0x7362u);
}

// Eight FP4 codes (a word, first code in the low nibble) as floats (FP4
// E2M1, bit 3 the sign: 0 0.5 1 1.5 2 3 4 6 and their negatives): a bf16
// value is the high half of its float.
__device__ __forceinline__ void fp4x8_to_float(unsigned word, float (&values)[8]) {
  for (int h = 0; h < 2; ++h) {
    unsigned pairs[2];
    fp4x4_bf16_bits(word >> (16 * h), pairs[0], pairs[1]);
    for (int p = 0; p < 2; ++p) {
      values[4 * h + 2 * p] = __uint_as_float(pairs[p] << 16);
      values[4 * h + 2 * p + 1] = __uint_as_float(pairs[p] & 0xFFFF0000u);
    }
  }
}

// Four FP4 codes (as fp4x4_bf16_bits) times a scale given as bf16x2
// (e8m0_bf16x2): the same bits as __float2bfloat16(value(code) *
// e8m0(s)) for every code and scale, as the scale is a power of two, so the
// bf16x2 product is rounded once, as the float path rounds it (products
// below bf16's normal range, 2^-126, which no real block scale gives, rest
// on PTX's bf16 multiply keeping subnormals, as it specifies).
__device__ __forceinline__ void fp4x4_to_bf16x2(unsigned codes, unsigned scale_pair, unsigned& first, unsigned& second) {
  unsigned words[2];
  fp4x4_bf16_bits(codes, words[0], words[1]);
  const auto as_pair = [](unsigned word) {
    __nv_bfloat162_raw raw;
    memcpy(&raw, &word, sizeof word);
    return __nv_bfloat162(raw);
  };
  const auto as_word = [](__nv_bfloat162 pair) {
    const __nv_bfloat162_raw raw = pair;
    unsigned word;
    memcpy(&word, &raw, sizeof word);
    return word;
  };
  const __nv_bfloat162 scale = as_pair(scale_pair);
  first = as_word(__hmul2(as_pair(words[0]), scale));
  second = as_word(__hmul2(as_pair(words[1]), scale));
}

// gpt-oss's SwiGLU: the gate clamped above and the linear part on both sides
// at `limit`, then gate * sigmoid(1.702 gate) * (up + 1).
__device__ __forceinline__ float clamped_swiglu(float gate, float up, float limit) {
  gate = fminf(gate, limit);
  up = fminf(fmaxf(up, -limit), limit);
  return gate / (1.0f + expf(-1.702f * gate)) * (up + 1.0f);
}

// E8M0 scale byte: 2^(s - 127), as float bits (s = 0 is the subnormal 2^-127).
__device__ __forceinline__ float e8m0(std::uint8_t s) { return __uint_as_float(s ? static_cast<unsigned>(s) << 23 : 0x00400000u); }

}  // namespace ossdesk::cuda

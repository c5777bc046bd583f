// A CPU emulator of the part of CUDA that ossdesk's kernels and CUDA backend
// use, so that CI (no GPU) runs the real kernel and host sources: the same
// files, compiled by g++ with this header force-included (-include), into
// libossdesk_cuda_emulated. See README.md beside it for what it checks and
// what it cannot.
//
// It keeps the toolkit's own headers for the types (dim3, cudaDeviceProp,
// __half, __nv_bfloat16 and their host conversions) and replaces the rest:
//   - the execution-space keywords become plain C++ (__shared__ = a static:
//     one kernel runs at a time, all threads of a block on one OS thread);
//   - threadIdx, blockIdx, blockDim, gridDim read the running fiber's values;
//   - __syncthreads and the warp intrinsics are real synchronisation points
//     between fibers (scheduler.cpp), with divergence reported as an error;
//   - the runtime API functions are defined in runtime.cpp (plain memory,
//     streams that run at once or record for a graph, events on the host clock).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <tuple>
#include <type_traits>

#define OSSDESK_CUDA_EMULATOR 1

#undef __global__
#undef __device__
#undef __host__
#undef __forceinline__
#undef __noinline__
#undef __shared__
#undef __launch_bounds__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __shared__ static
#define __launch_bounds__(...)

namespace ossdesk_emu {

// The running thread's coordinates, set by the scheduler before it resumes a
// fiber. Plain globals (not thread_local, which costs a call per access in a
// shared library): run_grid lets one kernel run at a time in the process.
extern uint3 current_thread;
extern uint3 current_block;
extern dim3 current_block_dim;
extern dim3 current_grid_dim;

// The calling thread waits at the block barrier.
void sync_block();
// The calling lane publishes `value` and waits for the lanes of `mask` in its
// warp; returns this round's 32 published values (valid until it next waits).
const std::uint64_t* warp_exchange(unsigned mask, std::uint64_t value);
// The lane of the calling thread in its warp.
unsigned lane_id();
// For tests of the emulator itself: returns the message of the failure that
// stuck and makes the context usable again (a GPU would need a new process).
std::string clear_failure();
// The calling thread passed await_previous_kernel() (kernels/common.cuh); a
// thread that ends without it fails the launch.
void awaited_previous_kernel();

// Runs every block of the grid, each block's threads as fibers, on the
// calling OS thread; other threads' launches wait.
void run_grid(dim3 grid, dim3 block, const std::function<void()>& body);
// Runs `work` now, or records it when `stream` is capturing a graph.
void enqueue(cudaStream_t stream, std::function<void()> work);

template <typename... Params, typename... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, cudaStream_t stream, Args... args) {
  std::tuple<std::decay_t<Params>...> params(static_cast<std::decay_t<Params>>(args)...);
  enqueue(stream, [kernel, grid, block, params] { run_grid(grid, block, [&] { std::apply(kernel, params); }); });
}

template <typename T>
T exchange_from(unsigned mask, T value, unsigned source_lane) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>);
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  const std::uint64_t* slots = warp_exchange(mask, bits);
  T out;
  std::memcpy(&out, &slots[source_lane & 31u], sizeof(T));
  return out;
}

}  // namespace ossdesk_emu

#define threadIdx (::ossdesk_emu::current_thread)
#define blockIdx (::ossdesk_emu::current_block)
#define blockDim (::ossdesk_emu::current_block_dim)
#define gridDim (::ossdesk_emu::current_grid_dim)

inline void __syncthreads() { ossdesk_emu::sync_block(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { ossdesk_emu::warp_exchange(mask, 0); }
// One OS thread runs every block, so writes are seen in program order: a fence has nothing to do.
inline void __threadfence() {}

template <typename T>
T __shfl_sync(unsigned mask, T value, int source, int width = 32) {
  const unsigned lane = ossdesk_emu::lane_id();
  return ossdesk_emu::exchange_from(mask, value, (lane & ~static_cast<unsigned>(width - 1)) + (static_cast<unsigned>(source) & static_cast<unsigned>(width - 1)));
}
template <typename T>
T __shfl_xor_sync(unsigned mask, T value, int lane_mask, int width = 32) {
  const unsigned lane = ossdesk_emu::lane_id();
  unsigned source = lane ^ static_cast<unsigned>(lane_mask);
  if ((source & ~static_cast<unsigned>(width - 1)) != (lane & ~static_cast<unsigned>(width - 1))) source = lane;
  return ossdesk_emu::exchange_from(mask, value, source);
}
template <typename T>
T __shfl_down_sync(unsigned mask, T value, unsigned delta, int width = 32) {
  const unsigned lane = ossdesk_emu::lane_id();
  const unsigned in_segment = lane & static_cast<unsigned>(width - 1);
  return ossdesk_emu::exchange_from(mask, value, in_segment + delta < static_cast<unsigned>(width) ? lane + delta : lane);
}
template <typename T>
T __shfl_up_sync(unsigned mask, T value, unsigned delta, int width = 32) {
  const unsigned lane = ossdesk_emu::lane_id();
  const unsigned in_segment = lane & static_cast<unsigned>(width - 1);
  return ossdesk_emu::exchange_from(mask, value, in_segment >= delta ? lane - delta : lane);
}
inline unsigned __ballot_sync(unsigned mask, int predicate) {
  const std::uint64_t* slots = ossdesk_emu::warp_exchange(mask, predicate != 0);
  unsigned bits = 0;
  for (unsigned i = 0; i < 32; ++i)
    if ((mask >> i & 1u) && slots[i]) bits |= 1u << i;
  return bits;
}
inline int __any_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) != 0; }
inline int __all_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) == mask; }

inline unsigned __float_as_uint(float f) { return std::bit_cast<unsigned>(f); }
inline float __uint_as_float(unsigned u) { return std::bit_cast<float>(u); }
inline int __float_as_int(float f) { return std::bit_cast<int>(f); }
inline float __int_as_float(int i) { return std::bit_cast<float>(i); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
template <typename T>
T __ldg(const T* p) { return *p; }

// Packed 4 x 8-bit dot product with accumulate.
inline int __dp4a(int a, int b, int c) {
  for (int i = 0; i < 4; ++i)
    c += static_cast<int>(static_cast<std::int8_t>(a >> (8 * i))) * static_cast<int>(static_cast<std::int8_t>(b >> (8 * i)));
  return c;
}

// PTX prmt.b32 in its generic form: byte i of the result is byte
// (s >> 4i) & 7 of y:x (x the low word), or, where bit 3 of that selector is
// set, that byte's bit 7 in all 8 bits.
namespace ossdesk_emu {
inline unsigned prmt(unsigned x, unsigned y, unsigned s) {
  const std::uint64_t bytes = static_cast<std::uint64_t>(y) << 32 | x;
  unsigned r = 0;
  for (unsigned i = 0; i < 4; ++i) {
    const unsigned select = s >> (4 * i) & 15u;
    unsigned byte = static_cast<unsigned>(bytes >> (8 * (select & 7u))) & 0xFFu;
    if (select & 8u) byte = byte & 0x80u ? 0xFFu : 0x00u;
    r |= byte << (8 * i);
  }
  return r;
}
}  // namespace ossdesk_emu
// CUDA's __byte_perm: prmt with bit 3 of each selector cleared.
inline unsigned __byte_perm(unsigned x, unsigned y, unsigned s) { return ossdesk_emu::prmt(x, y, s & 0x7777u); }
inline int __float2int_rn(float x) { return static_cast<int>(std::nearbyint(x)); }  // the default mode: to nearest, ties even

// Blocks run one after another on one OS thread, so plain read-modify-writes are atomic.
inline float atomicAdd(float* p, float v) { const float old = *p; *p = old + v; return old; }
inline int atomicAdd(int* p, int v) { const int old = *p; *p = old + v; return old; }
inline unsigned atomicAdd(unsigned* p, unsigned v) { const unsigned old = *p; *p = old + v; return old; }
inline int atomicMax(int* p, int v) { const int old = *p; *p = std::max(old, v); return old; }
inline int atomicMin(int* p, int v) { const int old = *p; *p = std::min(old, v); return old; }

using std::isfinite;
using std::isnan;

// CUDA's device overloads of min and max for integers.
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }

// The warp matrix API (tensor cores), as wmma_emu.h emulates it.
#include "wmma_emu.h"

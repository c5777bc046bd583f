// Picking the next token on the device: argmax for greedy decoding, and a
// draw with the host sampler's rules, as threshold searches over the logits
// (the same method as shaders/sample.comp; see there for why it matches).
#include <climits>

#include "common.cuh"

namespace ossdesk::cuda {
namespace {

constexpr int kThreads = 1024;
constexpr int kSampleThreads = 512;  // a row of bins each in 32 KB of shared memory
constexpr int kDigitBits = 4, kDigits = 1 << kDigitBits;

__global__ void argmax_kernel(const float* logits, int n, std::int32_t* out) {
  await_previous_kernel();
  __shared__ float best_v[kThreads];
  __shared__ int best_i[kThreads];
  float bv = -INFINITY;
  int bi = -1;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    const float v = logits[i];
    if (!isnan(v) && (bi < 0 || v > bv)) bv = v, bi = i;  // i ascends: ties keep the lower id
  }
  best_v[threadIdx.x] = bv;
  best_i[threadIdx.x] = bi;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      const float v = best_v[threadIdx.x + s];
      const int i = best_i[threadIdx.x + s];
      const int mine = best_i[threadIdx.x];
      if (i >= 0 && (mine < 0 || v > best_v[threadIdx.x] || (v == best_v[threadIdx.x] && i < mine))) {
        best_v[threadIdx.x] = v;
        best_i[threadIdx.x] = i;
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) out[0] = best_i[0] < 0 ? 0 : best_i[0];
}

__device__ __forceinline__ unsigned key_of(float s) {
  const unsigned b = __float_as_uint(s);
  return (b & 0x80000000u) ? ~b : b | 0x80000000u;
}

struct Sampler {
  const float* logits;
  int n;
  float inv_t, top, min_weight;

  // Mass (or count) of the usable tokens with key >= tau (and weight >= min_weight with floor_on).
  __device__ float mass_from(unsigned tau, bool count, bool floor_on) const {
    float acc = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
      const float v = logits[i];
      if (!isfinite(v)) continue;
      const float s = v * inv_t;
      if (key_of(s) < tau) continue;
      const float w = expf(s - top);
      if (floor_on && w < min_weight) continue;
      acc += count ? 1.0f : w;
    }
    return block_sum(acc);
  }
  // The largest tau with mass_from(tau) >= target (> with strict), four bits
  // of it per pass over the logits (8 passes where one bit a pass took 32):
  // a pass sums, for each candidate tau | d << shift (d = 1 .. 15), the mass at
  // or above it, and keeps the largest d that reaches the target. A thread
  // sorts its tokens by digit into its own row of `bins` (or `above`, for keys
  // above every candidate), then each candidate's mass is a block_sum of the
  // threads' suffix sums: a fixed order, so a draw does not depend on timing.
  // The masses grow as d falls (rounding is monotone), as mass_from's do.
  __device__ unsigned threshold(float target, bool count, bool floor_on, bool strict, float* bins) const {
    float* mine = bins + threadIdx.x * kDigits;
    unsigned tau = 0;
    for (int shift = 32 - kDigitBits; shift >= 0; shift -= kDigitBits) {
      // tau's bits above this digit are settled, those below it are zero
      const unsigned settled = shift + kDigitBits == 32 ? 0u : ~0u << (shift + kDigitBits);
      for (int d = 0; d < kDigits; ++d) mine[d] = 0.0f;
      float above = 0.0f;
      for (int i = threadIdx.x; i < n; i += blockDim.x) {
        const float v = logits[i];
        if (!isfinite(v)) continue;
        const float s = v * inv_t;
        const unsigned key = key_of(s);
        if (key < tau) continue;  // below every candidate
        const float w = expf(s - top);
        if (floor_on && w < min_weight) continue;
        const float add = count ? 1.0f : w;
        if ((key & settled) > tau) above += add;
        else mine[key >> shift & (kDigits - 1)] += add;
      }
      float suffix = above;
      int digit = 0;
      for (int d = kDigits - 1; d >= 1; --d) {
        suffix += mine[d];
        const float m = block_sum(suffix);  // the mass at or above tau | d << shift
        if (digit == 0 && (strict ? m > target : m >= target)) digit = d;
      }
      tau |= static_cast<unsigned>(digit) << shift;
    }
    return tau;
  }
};

__global__ void sample_kernel(const float* logits, int n, const SampleArgs* args, std::int32_t* out) {
  await_previous_kernel();
  __shared__ int first_id[kSampleThreads];
  __shared__ float bins[kSampleThreads * kDigits];
  const float inv_t = args->inv_temperature, top_p = args->top_p, min_p = args->min_p, u = args->u;
  const int top_k = args->top_k;
  float best = -3.0e38f;
  for (int i = threadIdx.x; i < n; i += blockDim.x)
    if (isfinite(logits[i])) best = fmaxf(best, logits[i] * inv_t);
  const Sampler s{logits, n, inv_t, block_max(best), min_p > 0.0f ? min_p : 0.0f};

  unsigned tau = 0;
  if (top_k > 0 && static_cast<float>(top_k) < s.mass_from(0, true, false)) tau = s.threshold(static_cast<float>(top_k), true, false, false, bins);
  if (top_p < 1.0f) tau = max(tau, s.threshold(top_p * s.mass_from(tau, false, false), false, false, false, bins));
  const float total = s.mass_from(tau, false, true);
  const unsigned chosen = max(tau, s.threshold(u * total, false, true, true, bins));

  int id = INT_MAX;
  for (int i = threadIdx.x; i < n; i += blockDim.x)
    if (isfinite(logits[i]) && key_of(logits[i] * inv_t) == chosen) {
      id = i;
      break;
    }
  first_id[threadIdx.x] = id;
  __syncthreads();
  for (unsigned step = blockDim.x / 2; step > 0; step >>= 1) {
    if (threadIdx.x < step) first_id[threadIdx.x] = min(first_id[threadIdx.x], first_id[threadIdx.x + step]);
    __syncthreads();
  }
  if (threadIdx.x == 0) out[0] = first_id[0] == INT_MAX ? 0 : first_id[0];
}

}  // namespace

void argmax(const float* logits, int n, std::int32_t* out, cudaStream_t s) { launch(argmax_kernel, 1, kThreads, s, logits, n, out); }

void sample(const float* logits, int n, const SampleArgs* args, std::int32_t* out, cudaStream_t s) {
  launch(sample_kernel, 1, kSampleThreads, s, logits, n, args, out);
}

}  // namespace ossdesk::cuda

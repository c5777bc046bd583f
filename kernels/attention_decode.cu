// Decode attention (one new token) as flash-decoding. The keys in view are
// split across `splits` blocks per kv head, so a long context keeps every SM
// busy; each block serves all query heads that share its kv head (8 for
// gpt-oss), so a key or value row is read once for the group, not once per
// query head. Each block leaves a partial softmax (max, sum, weighted values)
// per query head; the last block of a kv head to finish merges its group's
// splits with the sinks (one launch per layer, no second kernel). Which block
// is last varies from run to run, but the merge reads the splits in order, so
// the result does not.
#include <algorithm>

#include "common.cuh"

namespace ossdesk::cuda {
namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kMaxDimsPerLane = kMaxHeadDim / 32;
constexpr float kNoScore = -3.0e38f;

// out[d] = sum_s acc_s[d] e^(m_s - M) / (e^(sink - M) + sum_s l_s e^(m_s - M))
// for the `count` query heads from `first_head`, by the whole block. The
// partials of other blocks are read through volatile, past this SM's L1.
__device__ void merge_splits(const float* partial_, const float* sinks, float* out, int heads, int first_head, int count,
                             int head_dim, int splits) {
  const volatile float* partial = partial_;
  const int stride = head_dim + 2;
  __shared__ float head_max[kDecodeMaxGroup], head_sum[kDecodeMaxGroup];
  if (static_cast<int>(threadIdx.x) < count) {
    const int head = first_head + static_cast<int>(threadIdx.x);
    float M = sinks[head];
    for (int s = 0; s < splits; ++s) M = fmaxf(M, partial[(static_cast<std::size_t>(s) * heads + head) * stride]);
    float L = expf(sinks[head] - M);
    for (int s = 0; s < splits; ++s) {
      const std::size_t at = (static_cast<std::size_t>(s) * heads + head) * stride;
      L += partial[at + 1] * expf(partial[at] - M);
    }
    head_max[threadIdx.x] = M;
    head_sum[threadIdx.x] = L;
  }
  __syncthreads();
  for (int e = threadIdx.x; e < count * head_dim; e += blockDim.x) {
    const int g = e / head_dim, d = e - g * head_dim, head = first_head + g;
    float sum = 0.0f;
    for (int s = 0; s < splits; ++s) {
      const std::size_t at = (static_cast<std::size_t>(s) * heads + head) * stride;
      sum += partial[at + 2 + d] * expf(partial[at] - head_max[g]);
    }
    out[static_cast<std::size_t>(head) * head_dim + d] = sum / head_sum[g];
  }
}

// grid (kv_heads, splits). A warp takes tiles of 32 keys, one key per lane
// for the scores, then one output dimension per lane (strided) for the values:
// DIMS = head_dim / 32 rounded up of them. The loops over the group's heads
// and a lane's dimensions run to compile-time bounds, so the accumulators stay
// in registers (with runtime bounds nvcc put them in local memory).
template <int DIMS>
__global__ void attention_split_kernel(const float* q, const __half* keys, const __half* values, const float* sinks,
                                       float* out_final, DecodeSplits splits_scratch, int heads, int kv_heads, int head_dim,
                                       int window, int ring, float scale, const std::int32_t* position) {
  await_previous_kernel();
  float* partial = splits_scratch.partial;
  __shared__ float q_s[kDecodeMaxGroup * kMaxHeadDim];
  __shared__ float p_s[kWarps][kDecodeMaxGroup][32];
  __shared__ float merge_m[kWarps][kDecodeMaxGroup], merge_l[kWarps][kDecodeMaxGroup];
  __shared__ float merge_acc[kWarps][kDecodeMaxGroup * kMaxHeadDim / 4];  // reused per quarter of the dims, see below

  const int kvh = blockIdx.x, split = blockIdx.y, splits = gridDim.y;
  const int group = heads / kv_heads;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int kv_dim = kv_heads * head_dim;

  for (int i = threadIdx.x; i < group * head_dim; i += kThreads) q_s[i] = q[static_cast<std::size_t>(kvh) * group * head_dim + i];
  __syncthreads();

  const int pos = *position;
  const int first = window > 0 && pos + 1 > window ? pos + 1 - window : 0;
  const int count = pos + 1 - first;
  const int per_split = (count + splits - 1) / splits;
  const int begin = first + split * per_split;
  const int end = min(pos + 1, begin + per_split);

  float m[kDecodeMaxGroup], l[kDecodeMaxGroup], acc[kDecodeMaxGroup][DIMS];
  OSSDESK_UNROLL
  for (int g = 0; g < kDecodeMaxGroup; ++g) {
    m[g] = kNoScore;
    l[g] = 0.0f;
    OSSDESK_UNROLL
    for (int i = 0; i < DIMS; ++i) acc[g][i] = 0.0f;
  }

  for (int tile = begin + warp * 32; tile < end; tile += kWarps * 32) {
    const int key = tile + lane;
    const bool valid = key < end;
    const std::size_t slot = kv_slot(key, ring);
    float score[kDecodeMaxGroup];
    OSSDESK_UNROLL
    for (int g = 0; g < kDecodeMaxGroup; ++g) score[g] = 0.0f;
    if (valid) {
      const __half2* row = reinterpret_cast<const __half2*>(keys + slot * kv_dim + static_cast<std::size_t>(kvh) * head_dim);
      for (int d = 0; d < head_dim / 2; ++d) {
        const float2 k2 = __half22float2(row[d]);
        OSSDESK_UNROLL
        for (int g = 0; g < kDecodeMaxGroup; ++g)
          if (g < group) score[g] += q_s[g * head_dim + 2 * d] * k2.x + q_s[g * head_dim + 2 * d + 1] * k2.y;
      }
    }
    OSSDESK_UNROLL
    for (int g = 0; g < kDecodeMaxGroup; ++g) {
      if (g >= group) break;
      const float s = valid ? score[g] * scale : kNoScore;
      const float m_new = fmaxf(m[g], warp_max(s));
      const float alpha = expf(m[g] - m_new);
      const float p = valid ? expf(s - m_new) : 0.0f;
      l[g] = l[g] * alpha + warp_sum(p);
      m[g] = m_new;
      OSSDESK_UNROLL
      for (int i = 0; i < DIMS; ++i) acc[g][i] *= alpha;
      p_s[warp][g][lane] = p;
    }
    __syncwarp();
    const int n = min(32, end - tile);
    for (int j = 0; j < n; ++j) {
      const int kj = tile + j;
      const std::size_t sj = kv_slot(kj, ring);
      const __half* vrow = values + sj * kv_dim + static_cast<std::size_t>(kvh) * head_dim;
      OSSDESK_UNROLL
      for (int i = 0; i < DIMS; ++i) {
        const int d = lane + 32 * i;
        if (d >= head_dim) break;
        const float v = __half2float(vrow[d]);
        OSSDESK_UNROLL
        for (int g = 0; g < kDecodeMaxGroup; ++g)
          if (g < group) acc[g][i] += p_s[warp][g][j] * v;
      }
    }
    __syncwarp();  // p_s is rewritten by the next tile
  }

  // Merge the warps: each query head's max, then the rescaled sums and values.
  if (lane == 0) {
    OSSDESK_UNROLL
    for (int g = 0; g < kDecodeMaxGroup; ++g)
      if (g < group) merge_m[warp][g] = m[g], merge_l[warp][g] = l[g];
  }
  __syncthreads();
  float scale_w[kDecodeMaxGroup];  // this warp's factor exp(m_w - M) per head
  float total_m[kDecodeMaxGroup], total_l[kDecodeMaxGroup];
  OSSDESK_UNROLL
  for (int g = 0; g < kDecodeMaxGroup; ++g) {
    if (g >= group) break;
    float M = kNoScore;
    for (int w = 0; w < kWarps; ++w) M = fmaxf(M, merge_m[w][g]);
    float L = 0.0f;
    for (int w = 0; w < kWarps; ++w) L += merge_l[w][g] * expf(merge_m[w][g] - M);
    total_m[g] = M;
    total_l[g] = L;
    scale_w[g] = expf(m[g] - M);
  }
  // out layout per (split, head): [m, l, values...]
  const int stride = head_dim + 2;
  float* out = partial + (static_cast<std::size_t>(split) * heads + static_cast<std::size_t>(kvh) * group) * stride;
  if (threadIdx.x == 0) {
    OSSDESK_UNROLL
    for (int g = 0; g < kDecodeMaxGroup; ++g)
      if (g < group) out[g * stride] = total_m[g], out[g * stride + 1] = total_l[g];
  }
  // The weighted values, summed over the warps a quarter of the dimensions at
  // a time (shared memory holds a quarter of group x head_dim per warp).
  const int quarter = (head_dim + 3) / 4;
  for (int part = 0; part < 4; ++part) {
    const int lo = part * quarter, hi = min(head_dim, lo + quarter);
    OSSDESK_UNROLL
    for (int i = 0; i < DIMS; ++i) {
      const int d = lane + 32 * i;
      if (d >= lo && d < hi) {
        OSSDESK_UNROLL
        for (int g = 0; g < kDecodeMaxGroup; ++g)
          if (g < group) merge_acc[warp][g * quarter + (d - lo)] = acc[g][i] * scale_w[g];
      }
    }
    __syncthreads();
    for (int e = threadIdx.x; e < group * (hi - lo); e += kThreads) {
      const int g = e / (hi - lo), d = e - g * (hi - lo);
      float sum = 0.0f;
      for (int w = 0; w < kWarps; ++w) sum += merge_acc[w][g * quarter + d];
      out[g * stride + 2 + lo + d] = sum;
    }
    __syncthreads();
  }

  // The last block of this kv head to get here merges its splits.
  if (splits > 1 && !last_block_to_arrive(&splits_scratch.arrivals[kvh], static_cast<unsigned>(splits))) return;
  merge_splits(partial, sinks, out_final, heads, kvh * group, group, head_dim, splits);
}

}  // namespace

int attention_decode_splits(int max_keys) { return std::clamp((max_keys + 127) / 128, 1, kMaxDecodeSplits); }

void attention_decode(const float* q, const std::uint16_t* keys, const std::uint16_t* values, const float* sinks, float* out,
                      int heads, int kv_heads, int head_dim, int window, int ring, float scale,
                      const std::int32_t* position, int splits, DecodeSplits scratch, cudaStream_t s) {
  const dim3 grid(kv_heads, splits);
  const __half* k = reinterpret_cast<const __half*>(keys);
  const __half* v = reinterpret_cast<const __half*>(values);
  const int dims = (head_dim + 31) / 32;
  if (dims <= 1)
    launch(attention_split_kernel<1>, grid, kThreads, s, q, k, v, sinks, out, scratch, heads, kv_heads, head_dim, window, ring, scale, position);
  else if (dims <= 2)
    launch(attention_split_kernel<2>, grid, kThreads, s, q, k, v, sinks, out, scratch, heads, kv_heads, head_dim, window, ring, scale, position);
  else if (dims <= 4)
    launch(attention_split_kernel<4>, grid, kThreads, s, q, k, v, sinks, out, scratch, heads, kv_heads, head_dim, window, ring, scale, position);
  else
    launch(attention_split_kernel<kMaxDimsPerLane>, grid, kThreads, s, q, k, v, sinks, out, scratch, heads, kv_heads, head_dim,
           window, ring, scale, position);
}

}  // namespace ossdesk::cuda

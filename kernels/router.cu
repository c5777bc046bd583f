// The router of the mixture of experts, fused with the MLP's RMSNorm, top-k
// and the softmax over the k (kernel_api.h, router_topk).
//
// Decode reads 32 rows of 2880 (F32 in GGUF files: 368 KB a layer). One block
// would read them from one SM, a few loads in flight at a time, so a decode
// step would wait tens of microseconds per layer on the router alone. So a
// short chunk splits each token's logits over column slices, one block per
// slice, and the last block of a token to finish sums the slices in a fixed
// order (the result does not depend on which block came last) and picks.
// Longer chunks (prefill) have a block per token and enough tokens.
#include "common.cuh"

namespace ossdesk::cuda {
namespace {

constexpr int kThreads = 256;  // as rmsnorm(): the same block_sum, so the same normalised bits

// The normalised input staged in shared memory; this block's columns
// [first, end) of it written out for the experts (and quantized, for dp4a).
__device__ __forceinline__ void stage_normed(const float* x, int cols, const float* norm, float eps, float* normed,
                                             const Q8Rows& normed_q8, int first, int end, float* xs) {
  const int t = blockIdx.y;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  stage_row(x + static_cast<std::size_t>(t) * cols, cols, norm, eps, xs);
  for (int c = first + threadIdx.x; c < end; c += blockDim.x) normed[static_cast<std::size_t>(t) * cols + c] = xs[c];
  if (normed_q8.codes)
    for (int b = first / 32 + warp; b < end / 32; b += warps)
      quantize_block(xs[b * 32 + lane], lane, normed_q8.codes + static_cast<std::size_t>(t) * cols + b * 32,
                     normed_q8.scales + static_cast<std::size_t>(t) * (cols / 32) + b);
}

// The k best of `logits` (highest first; on a tie the lower index, as
// torch.topk) and their softmax, for token blockIdx.y, by one warp: lane l
// holds experts l, l + 32, ..., and each of k rounds is a warp-wide arg-max
// over the experts not yet taken. One thread scanning them took k passes over
// all E: for gpt-oss-120b (E = 128) some 2000 dependent steps of a few cycles
// each, by estimate (untimed) several microseconds a layer in every decode
// step; the warp takes 4 comparisons and 5 shuffles a round.
__device__ __forceinline__ void pick_experts(const float* logits, int experts, int k, int lane, std::int32_t* index,
                                             float* weight) {
  constexpr int kPerLane = kMaxExperts / 32;
  static_assert(kMaxExperts % 32 == 0, "lanes hold whole rows of 32 experts");
  const int t = blockIdx.y;
  float mine[kPerLane];
  for (int j = 0; j < kPerLane; ++j) mine[j] = lane + 32 * j < experts ? logits[lane + 32 * j] : 0.0f;
  unsigned taken = 0;  // bit j: expert lane + 32 j is chosen
  int chosen[kMaxExpertsPerToken];
  for (int i = 0; i < k; ++i) {
    float best = 0.0f;
    int best_e = -1;  // none
    for (int j = 0; j < kPerLane; ++j) {  // ascending experts: a tie keeps the lower
      const int e = lane + 32 * j;
      if (e < experts && !(taken >> j & 1u) && (best_e < 0 || mine[j] > best)) {
        best = mine[j];
        best_e = e;
      }
    }
    for (int offset = 16; offset > 0; offset >>= 1) {
      const float other = __shfl_xor_sync(0xffffffffu, best, offset);
      const int other_e = __shfl_xor_sync(0xffffffffu, best_e, offset);
      if (other_e >= 0 && (best_e < 0 || other > best || (other == best && other_e < best_e))) {
        best = other;
        best_e = other_e;
      }
    }
    best_e = __shfl_sync(0xffffffffu, best_e, 0);  // lane 0's: every lane takes the same choice, whatever NaNs do
    if (best_e >= 0 && (best_e & 31) == lane) taken |= 1u << (best_e >> 5);
    chosen[i] = best_e;
  }
  if (lane != 0) return;
  float w[kMaxExpertsPerToken], sum = 0.0f;
  for (int i = 0; i < k; ++i) sum += w[i] = expf(logits[chosen[i]] - logits[chosen[0]]);
  for (int i = 0; i < k; ++i) {
    index[t * k + i] = chosen[i];
    weight[t * k + i] = w[i] / sum;
  }
}

// Block (blockIdx.x, blockIdx.y): columns [blockIdx.x * width, + width) of
// every expert's logit for token blockIdx.y, a warp per expert. With one
// block per token (width = cols) the block has the logits itself; with
// several, each leaves its slice in `scratch` and the token's last block to
// finish sums them.
template <int FORMAT>
__global__ void router_kernel(const std::uint8_t* data, std::uint64_t row_stride, int experts, int cols, int width,
                              const float* bias, const float* x, const float* norm, float eps, float* normed,
                              Q8Rows normed_q8, int k, std::int32_t* index, float* weight, RouterSplits scratch) {
  await_previous_kernel();
  __shared__ __align__(16) float xs[kMaxStagedCols];  // read as float4
  __shared__ float logits[kMaxExperts];
  const int t = blockIdx.y, split = blockIdx.x, splits = gridDim.x;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  const int first = split * width, end = min(cols, first + width);
  stage_normed(x, cols, norm, eps, normed, normed_q8, first, end, xs);
  float* partial = splits > 1 ? scratch.partial + static_cast<std::size_t>(t) * kMaxRouterSplits * experts : nullptr;
  for (int e = warp; e < experts; e += warps) {
    const float acc =
        warp_sum(row_slice_dot_share<FORMAT>(data + static_cast<std::uint64_t>(e) * row_stride, xs, cols, first, end, lane));
    if (lane == 0) {
      if (splits == 1) logits[e] = acc + bias[e];
      else partial[split * experts + e] = acc;
    }
  }
  if (splits > 1) {
    if (!last_block_to_arrive(&scratch.arrivals[t], static_cast<unsigned>(splits))) return;
    const volatile float* slices = partial;
    for (int e = threadIdx.x; e < experts; e += blockDim.x) {
      float sum = 0.0f;
      for (int s = 0; s < splits; ++s) sum += slices[s * experts + e];
      logits[e] = sum + bias[e];
    }
  }
  __syncthreads();
  if (warp == 0) pick_experts(logits, experts, k, lane, index, weight);
}

}  // namespace

void router_topk(const DenseMatrix& w, const float* bias, const float* x, const float* norm_weight, float eps, float* normed,
                 const Q8Rows& normed_q8, int tokens, int k, std::int32_t* index, float* weight, const RouterSplits& splits,
                 cudaStream_t s) {
  const int blocks32 = w.cols / 32;  // slices hold whole 32-column blocks (Q8_0), so cols must be a multiple of 32
  const int per_slice = (blocks32 + kMaxRouterSplits - 1) / kMaxRouterSplits;
  const int slices = per_slice > 0 ? (blocks32 + per_slice - 1) / per_slice : 1;
  const bool split = tokens <= kRouterSplitTokens && slices > 1 && w.cols % 32 == 0;
  with_dense_format(w.format, [&](auto format) {
    launch(router_kernel<decltype(format)::value>, dim3(split ? slices : 1, tokens), kThreads, s, w.data, w.row_stride,
           w.rows, w.cols, split ? per_slice * 32 : w.cols, bias, x, norm_weight, eps, normed, normed_q8, k, index, weight,
           splits);
  });
}

}  // namespace ossdesk::cuda

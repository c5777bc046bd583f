// The mixture of experts: the router fused with top-k and softmax, gate/up
// with bias and clamped SwiGLU fused, and down with bias, the routing weights,
// the sum over the k experts and the residual fused. Expert weights are MXFP4
// (kernel_api.h), decoded in registers.
#include "common.cuh"

namespace ossdesk::cuda {
namespace {

constexpr int kMaxExperts = 128;
constexpr int kMaxK = 8;
constexpr int kThreads = 128;
constexpr int kRouterThreads = 256;  // as rmsnorm(): the same block_sum, so the same normalised bits

// One block per token: the normalised input staged in shared memory (and
// written out for the experts), one warp per expert's logit, then top-k.
template <int FORMAT>
__global__ void router_kernel(const std::uint8_t* data, std::uint64_t row_stride, int experts, int cols, const float* bias,
                              const float* x, const float* norm, float eps, float* normed, int k, std::int32_t* index,
                              float* weight) {
  __shared__ float xs[kMaxStagedCols];
  __shared__ float logits[kMaxExperts];
  const int t = blockIdx.x;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  stage_row(x + static_cast<std::size_t>(t) * cols, cols, norm, eps, xs);
  for (int c = threadIdx.x; c < cols; c += blockDim.x) normed[static_cast<std::size_t>(t) * cols + c] = xs[c];
  for (int e = warp; e < experts; e += warps) {
    const float acc = warp_sum(row_dot_share<FORMAT>(data + static_cast<std::uint64_t>(e) * row_stride, xs, cols, lane));
    if (lane == 0) logits[e] = acc + bias[e];
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    // Selection of the k best, highest first; on a tie the lower index (torch.topk).
    int chosen[kMaxK];
    for (int i = 0; i < k; ++i) {
      int best = -1;
      for (int e = 0; e < experts; ++e) {
        bool taken = false;
        for (int j = 0; j < i; ++j) taken = taken || chosen[j] == e;
        if (!taken && (best < 0 || logits[e] > logits[best])) best = e;
      }
      chosen[i] = best;
    }
    float w[kMaxK], sum = 0.0f;
    for (int i = 0; i < k; ++i) sum += w[i] = expf(logits[chosen[i]] - logits[chosen[0]]);
    for (int i = 0; i < k; ++i) {
      index[t * k + i] = chosen[i];
      weight[t * k + i] = w[i] / sum;
    }
  }
}

// dot(row r of expert e, x) for an MXFP4 matrix, by one warp.
__device__ __forceinline__ float fp4_row_dot(const ExpertMatrices& m, int e, int r, const float* x, int lane) {
  const std::size_t row = static_cast<std::size_t>(e) * m.rows + r;
  const std::uint8_t* nibbles = m.nibbles + row * (m.cols / 2);
  const std::uint8_t* scales = m.scales + row * (m.cols / 32);
  float acc = 0.0f;
  for (int b = lane; b < m.cols / 32; b += 32) {  // one 32-value block (16 bytes, one load) per lane per step
    const uint4 packed = *reinterpret_cast<const uint4*>(nibbles + b * 16);
    const unsigned words[4] = {packed.x, packed.y, packed.z, packed.w};
    const float* xb = x + b * 32;
    float s = 0.0f;
    for (int w = 0; w < 4; ++w)
      for (int i = 0; i < 8; ++i) s += fp4_value(words[w] >> (4 * i) & 15u) * xb[8 * w + i];
    acc += s * e8m0(scales[b]);
  }
  return warp_sum(acc);
}

// One warp per intermediate row i; blockIdx.y = j (which of the k), blockIdx.z = token.
__global__ void gate_up_kernel(ExpertMatrices gate, ExpertMatrices up, const float* gate_bias, const float* up_bias,
                               const float* x, const std::int32_t* index, int k, float limit, float* act) {
  const int i = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (i >= gate.rows) return;
  const int j = blockIdx.y, t = blockIdx.z;
  const int e = index[t * k + j];
  const float* xt = x + static_cast<std::size_t>(t) * gate.cols;
  float g = fp4_row_dot(gate, e, i, xt, lane) + gate_bias[static_cast<std::size_t>(e) * gate.rows + i];
  float u = fp4_row_dot(up, e, i, xt, lane) + up_bias[static_cast<std::size_t>(e) * up.rows + i];
  if (lane == 0) {
    g = fminf(g, limit);
    u = fminf(fmaxf(u, -limit), limit);
    act[(static_cast<std::size_t>(t) * k + j) * gate.rows + i] = g / (1.0f + expf(-1.702f * g)) * (u + 1.0f);
  }
}

// One warp per hidden row h of one token (blockIdx.y): the k experts summed
// in order, so the result does not depend on scheduling.
__global__ void down_kernel(ExpertMatrices down, const float* down_bias, const float* act, const std::int32_t* index,
                            const float* weight, int k, float* x) {
  const int h = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (h >= down.rows) return;
  const int t = blockIdx.y;
  float total = 0.0f;
  for (int j = 0; j < k; ++j) {
    const int e = index[t * k + j];
    const float* a = act + (static_cast<std::size_t>(t) * k + j) * down.cols;
    const float y = fp4_row_dot(down, e, h, a, lane) + down_bias[static_cast<std::size_t>(e) * down.rows + h];
    total += weight[t * k + j] * y;
  }
  if (lane == 0) x[static_cast<std::size_t>(t) * down.rows + h] += total;
}

}  // namespace

void router_topk(const DenseMatrix& w, const float* bias, const float* x, const float* norm_weight, float eps, float* normed,
                 int tokens, int k, std::int32_t* index, float* weight, cudaStream_t s) {
#define OSSDESK_ROUTER(FORMAT)                                                                                         \
  launch(router_kernel<FORMAT>, tokens, kRouterThreads, s, w.data, w.row_stride, w.rows, w.cols, bias, x, norm_weight, eps, \
         normed, k, index, weight)
  switch (w.format) {
    case kDenseF32: OSSDESK_ROUTER(kDenseF32); break;
    case kDenseF16: OSSDESK_ROUTER(kDenseF16); break;
    case kDenseBF16: OSSDESK_ROUTER(kDenseBF16); break;
    default: OSSDESK_ROUTER(kDenseQ8); break;
  }
#undef OSSDESK_ROUTER
}

void moe_gate_up(const ExpertMatrices& gate, const ExpertMatrices& up, const float* gate_bias, const float* up_bias,
                 const float* x, const std::int32_t* index, int tokens, int k, float limit, float* act, cudaStream_t s) {
  const int rows_per_block = kThreads / 32;
  launch(gate_up_kernel, dim3((gate.rows + rows_per_block - 1) / rows_per_block, k, tokens), kThreads, s,
      gate, up, gate_bias, up_bias, x, index, k, limit, act);
}

void moe_down(const ExpertMatrices& down, const float* down_bias, const float* act, const std::int32_t* index,
              const float* weight, int tokens, int k, float* x, cudaStream_t s) {
  const int rows_per_block = kThreads / 32;
  launch(down_kernel, dim3((down.rows + rows_per_block - 1) / rows_per_block, tokens), kThreads, s,
      down, down_bias, act, index, weight, k, x);
}

}  // namespace ossdesk::cuda

// The attention input of a chunk in one launch: matvec_fused's q/k/v product
// (RMSNorm fused) with RoPE and the KV-cache append in its epilogue, so decode
// needs no separate rope_kv_write launch and q/k/v make no round trip through
// global memory. It serves the chunks that run on the matrix-vector kernels
// (decode and short chunks); tensor-core chunks keep gemm + rope_kv_write.
//
// RoPE rotates rows d and d + head_dim/2 of a head together, which two warps
// of a matrix-vector product compute. So the rows are taken in pairs: a block's
// kPairs pairs are computed by its warps w and w + kPairs, which meet in
// shared memory, and a lane of the first warp rotates and stores the pair.
// v's rows pair up too (2j, 2j + 1: nothing to rotate), so every block does the
// same work and a block never straddles q and k mid-pair.
#include "common.cuh"

namespace ossdesk::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kPairs = kWarps / 2;

template <int FORMAT>
__global__ void qkv_rope_kernel(MatvecParts parts, const float* x, int x_stride, int cols, const float* norm, float eps,
                                RopeKvAppend rope) {
  await_previous_kernel();
  __shared__ __align__(16) float xs[kMaxStagedCols];  // read as float4
  __shared__ float dots[kWarps];
  const int t = blockIdx.y;
  stage_row(x + static_cast<std::size_t>(t) * x_stride, cols, norm, eps, xs);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int half = rope.half_dim;
  // Pair j of the block; the first member is row a, the second row b.
  const int pair = blockIdx.x * kPairs + warp % kPairs, member = warp / kPairs;
  const bool active = pair < parts.first_row[3] / 2;
  int p = 0, a = 0;
  if (active) {
    while (pair >= parts.first_row[p + 1] / 2) ++p;
    const int j = pair - parts.first_row[p] / 2;  // the part's pair
    a = p < 2 ? (j / half) * 2 * half + j % half : 2 * j;
    const int row = a + member * (p < 2 ? half : 1);
    const MatvecPart& part = parts.part[p];
    const float dot = warp_sum(row_dot_share<FORMAT>(part.w.data + static_cast<std::uint64_t>(row) * part.w.row_stride, xs, cols, lane));
    if (lane == 0) dots[warp] = dot + (part.bias ? part.bias[row] : 0.0f);
  }
  __syncthreads();
  if (!active || member != 0 || lane != 0) return;
  float va = dots[warp], vb = dots[warp + kPairs];
  const int pos = *rope.first_position + t;
  const std::size_t slot = kv_slot(pos, rope.ring);
  const int kv_dim = parts.part[1].w.rows;
  if (p == 2) {
    __half* out = reinterpret_cast<__half*>(rope.values) + slot * kv_dim;
    out[a] = __float2half_rn(va);
    out[a + 1] = __float2half_rn(vb);
    return;
  }
  rope_rotate(pos, rope.inv_freq[a % (2 * half)], rope.concentration, va, vb);
  if (p == 0) {
    float* out = parts.part[0].y + static_cast<std::size_t>(t) * parts.part[0].y_stride;
    out[a] = va;
    out[a + half] = vb;
  } else {
    __half* out = reinterpret_cast<__half*>(rope.keys) + slot * kv_dim;
    out[a] = __float2half_rn(va);
    out[a + half] = __float2half_rn(vb);
  }
}

}  // namespace

bool qkv_rope_fusable(const MatvecPart* parts, const RopeKvAppend& rope) {
  if (!matvec_fusable(parts, 3) || rope.half_dim < 1) return false;
  const int head_dim = 2 * rope.half_dim;
  for (int p = 0; p < 3; ++p)
    if (parts[p].accumulate || parts[p].w.rows % head_dim) return false;
  return parts[1].w.rows == parts[2].w.rows;
}

void qkv_rope_fused(const MatvecPart* parts, const float* x, int x_stride, const float* norm_weight, float eps,
                    const RopeKvAppend& rope, int tokens, cudaStream_t s) {
  const MatvecParts all = matvec_parts(parts, 3);
  const dim3 grid((all.first_row[3] / 2 + kPairs - 1) / kPairs, tokens);
  const int cols = parts[0].w.cols;
  with_dense_format(parts[0].w.format, [&](auto format) {
    launch(qkv_rope_kernel<decltype(format)::value>, grid, kThreads, s, all, x, x_stride, cols, norm_weight, eps, rope);
  });
}

}  // namespace ossdesk::cuda

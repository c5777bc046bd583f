// The experts of prefill on tensor cores, as grouped GEMMs: the chunk's
// (token, expert) assignments are grouped by expert on the device, in
// assignment order, and cut into tiles of up to 64 rows of one expert; each
// tile multiplies its expert's MXFP4 matrices once for all its rows
// (tensor_tile.cuh). gate/up carry the bias and the clamped SwiGLU, down the
// bias and the routing weight; the k experts of a token are then summed in
// order into the residual, so the result does not depend on scheduling.
#include "tensor_tile.cuh"

namespace ossdesk::cuda {
namespace {

using tc::kTileM;
using tc::kTileN;

constexpr int kGroupThreads = 1024;
constexpr int kCombineThreads = 256;

// One block. Warp w counts, then places, the assignments of experts w, w + 32,
// ... by ballots over the assignments in order, so each expert's rows keep
// assignment order; thread 0 lays out the tiles in between.
__global__ void group_kernel(const std::int32_t* index, int assignments, int experts, ExpertGroups g) {
  await_previous_kernel();
  __shared__ int count[kMaxExperts], first[kMaxExperts];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  for (int e = warp; e < experts; e += warps) {
    int n = 0;
    for (int base = 0; base < assignments; base += 32) {
      const int a = base + lane;
      n += __popc(__ballot_sync(0xffffffffu, a < assignments && index[a] == e));
    }
    if (lane == 0) count[e] = n;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    int begin = 0, tiles = 0;
    for (int e = 0; e < experts; ++e) {
      first[e] = begin;
      for (int done = 0; done < count[e]; done += kTileM, ++tiles) {
        g.tile_expert[tiles] = e;
        g.tile_begin[tiles] = begin + done;
        g.tile_size[tiles] = min(kTileM, count[e] - done);
      }
      begin += count[e];
    }
    *g.tile_count = tiles;
  }
  __syncthreads();
  for (int e = warp; e < experts; e += warps) {
    int next = first[e];
    for (int base = 0; base < assignments; base += 32) {
      const int a = base + lane;
      const bool mine = a < assignments && index[a] == e;
      const unsigned hits = __ballot_sync(0xffffffffu, mine);
      if (mine) g.rows[next + __popc(hits & ((1u << lane) - 1u))] = a;
      next += __popc(hits);
    }
  }
}

// The tile's expert and its rows' assignments and input rows (tensor_rows()
// layout of `cols` values, row a / per_row for assignment a), in shared memory.
struct TileRows {
  int expert, size;
  int assignment[kTileM];
  const __nv_bfloat16* input[kTileM];
};

__device__ __forceinline__ void load_tile_rows(const ExpertGroups& g, const std::uint16_t* in, int cols, int per_row,
                                               TileRows& t) {
  const int tile = blockIdx.x;
  if (threadIdx.x == 0) {
    t.expert = g.tile_expert[tile];
    t.size = g.tile_size[tile];
  }
  if (threadIdx.x < kTileM) {
    const int size = g.tile_size[tile];
    const int a = static_cast<int>(threadIdx.x) < size ? g.rows[g.tile_begin[tile] + threadIdx.x] : -1;
    t.assignment[threadIdx.x] = a;
    t.input[threadIdx.x] = a >= 0 ? reinterpret_cast<const __nv_bfloat16*>(in + static_cast<std::size_t>(a / per_row) * 2 * cols)
                                  : nullptr;
  }
  __syncthreads();
}

// blockIdx.x: a tile (past *tile_count: nothing to do); blockIdx.y: 32 rows of
// gate and the same 32 of up, staged as one 64-row weight tile. The SwiGLU
// outputs are written rounded for the down products (tensor_rows() layout), a
// pair of neighbours a thread.
template <bool kSplit>
__global__ void __launch_bounds__(tc::kThreads, tc::kMinBlocksPerSm) grouped_gate_up_kernel(ExpertMatrices gate, ExpertMatrices up,
                                                                      const float* gate_bias, const float* up_bias,
                                                                      const std::uint16_t* x_rows, int k, ExpertGroups g,
                                                                      float limit, std::uint16_t* act_rows) {
  await_previous_kernel();
  if (static_cast<int>(blockIdx.x) >= *g.tile_count) return;
  __shared__ tc::Fp4Tiles<kSplit> s;
  __shared__ TileRows t;
  constexpr int kHalf = kTileN / 2;
  load_tile_rows(g, x_rows, gate.cols, k, t);
  const int i0 = blockIdx.y * kHalf;
  const int n = tc::staged_row();
  const int r = i0 + n % kHalf;
  const ExpertMatrices source = n < kHalf ? gate : up;  // a copy: a reference to either parameter would go to local memory
  tc::Fp4WeightLoader weights(source, t.expert, r < gate.rows ? r : -1);
  tc::multiply_tile(s, t.input, gate.cols, weights);
  constexpr int kPairs = kHalf / 2;
  for (int idx = threadIdx.x; idx < kTileM * kPairs; idx += blockDim.x) {
    const int m = idx / kPairs, i = 2 * (idx % kPairs);
    if (m >= t.size || i0 + i >= gate.rows) continue;  // gate.rows is even (moe_groupable)
    float v[2];
    for (int j = 0; j < 2; ++j) {
      const std::size_t e_row = static_cast<std::size_t>(t.expert) * gate.rows + i0 + i + j;
      const float gv = s.out[m * tc::kOutLd + i + j] + gate_bias[e_row];
      const float uv = s.out[m * tc::kOutLd + kHalf + i + j] + up_bias[e_row];
      v[j] = clamped_swiglu(gv, uv, limit);
    }
    std::uint16_t* row = act_rows + static_cast<std::size_t>(t.assignment[m]) * 2 * gate.rows;
    *reinterpret_cast<unsigned*>(row + i0 + i) =
        tc::round_split<__nv_bfloat16, kSplit>(v[0], v[1], *reinterpret_cast<unsigned*>(row + gate.rows + i0 + i));
  }
}

// blockIdx.x: a tile; blockIdx.y: 64 hidden rows. out[a][h] = weight[a] * (down_e[h] . act[a] + bias).
template <bool kSplit>
__global__ void __launch_bounds__(tc::kThreads, tc::kMinBlocksPerSm) grouped_down_kernel(ExpertMatrices down, const float* down_bias,
                                                                   const std::uint16_t* act_rows, const float* weight,
                                                                   ExpertGroups g, float* out) {
  await_previous_kernel();
  if (static_cast<int>(blockIdx.x) >= *g.tile_count) return;
  __shared__ tc::Fp4Tiles<kSplit> s;
  __shared__ TileRows t;
  load_tile_rows(g, act_rows, down.cols, 1, t);
  const int h0 = blockIdx.y * kTileN;
  const int r = h0 + tc::staged_row();
  tc::Fp4WeightLoader weights(down, t.expert, r < down.rows ? r : -1);
  tc::multiply_tile(s, t.input, down.cols, weights);
  for (int idx = threadIdx.x; idx < kTileM * kTileN; idx += blockDim.x) {
    const int m = idx / kTileN, h = idx % kTileN;
    if (m >= t.size || h0 + h >= down.rows) continue;
    const int a = t.assignment[m];
    const float y = s.out[m * tc::kOutLd + h] + down_bias[static_cast<std::size_t>(t.expert) * down.rows + h0 + h];
    out[static_cast<std::size_t>(a) * down.rows + h0 + h] = weight[a] * y;
  }
}

// x[t][h] += the k experts' weighted outputs of token t (blockIdx.y), in order.
__global__ void combine_kernel(const float* expert_out, int k, int hidden, float* x) {
  await_previous_kernel();
  const int h = blockIdx.x * blockDim.x + threadIdx.x;
  if (h >= hidden) return;
  const std::size_t t = blockIdx.y;
  float total = 0.0f;
  for (int j = 0; j < k; ++j) total += expert_out[(t * k + j) * hidden + h];
  x[t * hidden + h] += total;
}

}  // namespace

int expert_group_max_tiles(int assignments, int experts) { return (assignments + kTileM - 1) / kTileM + experts; }

bool moe_groupable(const ExpertMatrices& gate, const ExpertMatrices& down, int experts) {
  return experts <= kMaxExperts && gate.cols % tc::kTileK == 0 && down.cols % tc::kTileK == 0 && gate.rows == down.cols;
}

void group_by_expert(const std::int32_t* index, int assignments, int experts, const ExpertGroups& g, cudaStream_t s) {
  launch(group_kernel, 1, kGroupThreads, s, index, assignments, experts, g);
}

void moe_gate_up_grouped(const ExpertMatrices& gate, const ExpertMatrices& up, const float* gate_bias, const float* up_bias,
                         const std::uint16_t* x_rows, int tokens, int k, int experts, const ExpertGroups& g, float limit,
                         std::uint16_t* act_rows, TensorPrecision precision, cudaStream_t s) {
  const dim3 grid(expert_group_max_tiles(tokens * k, experts), (gate.rows + kTileN / 2 - 1) / (kTileN / 2));
  const auto kernel = precision == TensorPrecision::Split ? grouped_gate_up_kernel<true> : grouped_gate_up_kernel<false>;
  launch(kernel, grid, tc::kThreads, s, gate, up, gate_bias, up_bias, x_rows, k, g, limit, act_rows);
}

void moe_down_grouped(const ExpertMatrices& down, const float* down_bias, const std::uint16_t* act_rows, const float* weight,
                      int tokens, int k, int experts, const ExpertGroups& g, float* expert_out, float* x,
                      TensorPrecision precision, cudaStream_t s) {
  const dim3 grid(expert_group_max_tiles(tokens * k, experts), (down.rows + kTileN - 1) / kTileN);
  const auto kernel = precision == TensorPrecision::Split ? grouped_down_kernel<true> : grouped_down_kernel<false>;
  launch(kernel, grid, tc::kThreads, s, down, down_bias, act_rows, weight, g, expert_out);
  launch(combine_kernel, dim3((down.rows + kCombineThreads - 1) / kCombineThreads, tokens), kCombineThreads, s, expert_out, k,
         down.rows, x);
}

}  // namespace ossdesk::cuda

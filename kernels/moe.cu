// The experts' matrix-vector products (decode, short chunks): gate/up with
// bias and clamped SwiGLU fused, and down with bias, the routing weights, the
// sum over the k experts and the residual fused (the router: router.cu).
// Expert weights are MXFP4 (kernel_api.h), decoded in registers: to floats
// times float activations, or (dp4a) to int8 times 8-bit activations (Q8Rows).
#include "common.cuh"

namespace ossdesk::cuda {
namespace {

constexpr int kThreads = 128;

// The input rows of the expert products: float, or 8-bit codes and scales.
struct FloatInput {
  const float* x;
  __device__ const float* row(std::size_t i, int cols) const { return x + i * cols; }
};
struct Q8Input {
  Q8Rows q8;
  __device__ Q8Rows row(std::size_t i, int cols) const {
    return Q8Rows{q8.codes + i * cols, q8.scales + i * (cols / 32)};
  }
};

// Where row r of expert e of an MXFP4 matrix lies: its packed codes and its
// per-block E8M0 scales.
struct Fp4Row {
  const std::uint8_t* nibbles;
  const std::uint8_t* scales;
};
__device__ __forceinline__ Fp4Row fp4_row(const ExpertMatrices& m, int e, int r) {
  const std::size_t row = static_cast<std::size_t>(e) * m.rows + r;
  return Fp4Row{m.nibbles + row * (m.cols / 2), m.scales + row * (m.cols / 32)};
}

// Block b of a row (32 values: 16 bytes of codes, one load) against block b
// of the activations, times the block's scale: float activations ...
__device__ __forceinline__ float fp4_block_dot(uint4 packed, std::uint8_t scale, const float* x, int b) {
  const unsigned words[4] = {packed.x, packed.y, packed.z, packed.w};
  const float* xb = x + b * 32;
  float s = 0.0f;
  for (int w = 0; w < 4; ++w) {
    float v[8];
    fp4x8_to_float(words[w], v);
    for (int h = 0; h < 2; ++h) {
      const float4 xv = reinterpret_cast<const float4*>(xb)[2 * w + h];
      s += v[4 * h] * xv.x + v[4 * h + 1] * xv.y + v[4 * h + 2] * xv.z + v[4 * h + 3] * xv.w;
    }
  }
  return s * e8m0(scale);
}

// ... or 8-bit activations: eight dp4a, each of 4 codes (half a word)
// against 4 activations.
__device__ __forceinline__ float fp4_block_dot(uint4 packed, std::uint8_t scale, const Q8Rows& x, int b) {
  const uint4 xa = *reinterpret_cast<const uint4*>(x.codes + b * 32);
  const uint4 xb = *reinterpret_cast<const uint4*>(x.codes + b * 32 + 16);
  const unsigned words[4] = {packed.x, packed.y, packed.z, packed.w};
  const unsigned codes[8] = {xa.x, xa.y, xa.z, xa.w, xb.x, xb.y, xb.z, xb.w};
  int sum = 0;
  for (int w = 0; w < 4; ++w) {
    sum = __dp4a(fp4x4_doubled(words[w]), static_cast<int>(codes[2 * w]), sum);
    sum = __dp4a(fp4x4_doubled(words[w] >> 16), static_cast<int>(codes[2 * w + 1]), sum);
  }
  return static_cast<float>(sum) * (0.5f * e8m0(scale) * x.scales[b]);
}

// out[n] = dot(rows[n], x[n]) for N rows, by one warp, one block per lane per
// step. The N rows' loads are issued together: a decode product reads its
// weights at the memory's pace only with enough loads in flight, and one
// 16-byte load per lane (a warp per row, a row of 2880 being 3 steps) is few.
template <int N, typename X>
__device__ __forceinline__ void fp4_rows_dot(const Fp4Row (&rows)[N], const X (&x)[N], int cols, int lane, float (&out)[N]) {
  float acc[N];
  OSSDESK_UNROLL
  for (int n = 0; n < N; ++n) acc[n] = 0.0f;
  for (int b = lane; b < cols / 32; b += 32) {
    uint4 packed[N];
    std::uint8_t scale[N];
    OSSDESK_UNROLL
    for (int n = 0; n < N; ++n) {
      packed[n] = *reinterpret_cast<const uint4*>(rows[n].nibbles + b * 16);
      scale[n] = rows[n].scales[b];
    }
    OSSDESK_UNROLL
    for (int n = 0; n < N; ++n) acc[n] += fp4_block_dot(packed[n], scale[n], x[n], b);
  }
  OSSDESK_UNROLL
  for (int n = 0; n < N; ++n) out[n] = warp_sum(acc[n]);
}

// Quantizes rows of x (cols a multiple of 32) for the dp4a products: one warp per block.
__global__ void quantize_kernel(const float* x, int cols, Q8Rows out) {
  await_previous_kernel();
  const int b = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (b >= cols / 32) return;
  const std::size_t t = blockIdx.y;
  quantize_block(x[t * cols + b * 32 + lane], lane, out.codes + t * cols + b * 32, out.scales + t * (cols / 32) + b);
}

// One warp per intermediate row i, its gate and up rows read together;
// blockIdx.y = j (which of the k), blockIdx.z = token.
template <typename Input>
__global__ void gate_up_kernel(ExpertMatrices gate, ExpertMatrices up, const float* gate_bias, const float* up_bias,
                               Input x, const std::int32_t* index, int k, float limit, float* act) {
  await_previous_kernel();
  const int i = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (i >= gate.rows) return;
  const int j = blockIdx.y, t = blockIdx.z;
  const int e = index[t * k + j];
  const auto xt = x.row(t, gate.cols);
  const Fp4Row rows[2] = {fp4_row(gate, e, i), fp4_row(up, e, i)};
  const decltype(xt) inputs[2] = {xt, xt};
  float dots[2];
  fp4_rows_dot(rows, inputs, gate.cols, lane, dots);
  const float g = dots[0] + gate_bias[static_cast<std::size_t>(e) * gate.rows + i];
  const float u = dots[1] + up_bias[static_cast<std::size_t>(e) * up.rows + i];
  if (lane == 0) act[(static_cast<std::size_t>(t) * k + j) * gate.rows + i] = clamped_swiglu(g, u, limit);
}

// total += weight * (down_e[h] . act + bias) for the N experts j0 .. j0+N-1 of
// token t, in order, their rows read together.
template <int N, typename Input>
__device__ __forceinline__ void add_experts(const ExpertMatrices& down, const float* down_bias, const Input& act,
                                            const std::int32_t* index, const float* weight, int k, int t, int j0, int h,
                                            int lane, float& total) {
  Fp4Row rows[N];
  decltype(act.row(0, 0)) inputs[N];
  int e[N];
  OSSDESK_UNROLL
  for (int n = 0; n < N; ++n) {
    e[n] = index[t * k + j0 + n];
    rows[n] = fp4_row(down, e[n], h);
    inputs[n] = act.row(static_cast<std::size_t>(t) * k + j0 + n, down.cols);
  }
  float dots[N];
  fp4_rows_dot(rows, inputs, down.cols, lane, dots);
  OSSDESK_UNROLL
  for (int n = 0; n < N; ++n) {
    const float y = dots[n] + down_bias[static_cast<std::size_t>(e[n]) * down.rows + h];
    total += weight[t * k + j0 + n] * y;
  }
}

// One warp per hidden row h of one token (blockIdx.y): the k experts summed
// in order, so the result does not depend on scheduling; their rows are read
// four (then two, then one) at a time.
template <typename Input>
__global__ void down_kernel(ExpertMatrices down, const float* down_bias, Input act, const std::int32_t* index,
                            const float* weight, int k, float* x) {
  await_previous_kernel();
  const int h = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (h >= down.rows) return;
  const int t = blockIdx.y;
  float total = 0.0f;
  int j = 0;
  for (; j + 4 <= k; j += 4) add_experts<4>(down, down_bias, act, index, weight, k, t, j, h, lane, total);
  if (j + 2 <= k) add_experts<2>(down, down_bias, act, index, weight, k, t, j, h, lane, total), j += 2;
  if (j < k) add_experts<1>(down, down_bias, act, index, weight, k, t, j, h, lane, total);
  if (lane == 0) x[static_cast<std::size_t>(t) * down.rows + h] += total;
}

}  // namespace

void moe_gate_up(const ExpertMatrices& gate, const ExpertMatrices& up, const float* gate_bias, const float* up_bias,
                 const float* x, const Q8Rows& x_q8, const std::int32_t* index, int tokens, int k, float limit, float* act,
                 cudaStream_t s) {
  const int rows_per_block = kThreads / 32;
  const dim3 grid((gate.rows + rows_per_block - 1) / rows_per_block, k, tokens);
  if (x_q8.codes)
    launch(gate_up_kernel<Q8Input>, grid, kThreads, s, gate, up, gate_bias, up_bias, Q8Input{x_q8}, index, k, limit, act);
  else
    launch(gate_up_kernel<FloatInput>, grid, kThreads, s, gate, up, gate_bias, up_bias, FloatInput{x}, index, k, limit, act);
}

void moe_down(const ExpertMatrices& down, const float* down_bias, const float* act, const Q8Rows& act_q8,
              const std::int32_t* index, const float* weight, int tokens, int k, float* x, cudaStream_t s) {
  const int rows_per_block = kThreads / 32;
  const dim3 grid((down.rows + rows_per_block - 1) / rows_per_block, tokens);
  if (act_q8.codes) {
    launch(quantize_kernel, dim3((down.cols / 32 + rows_per_block - 1) / rows_per_block, tokens * k), kThreads, s, act,
           down.cols, act_q8);
    launch(down_kernel<Q8Input>, grid, kThreads, s, down, down_bias, Q8Input{act_q8}, index, weight, k, x);
  } else {
    launch(down_kernel<FloatInput>, grid, kThreads, s, down, down_bias, FloatInput{act}, index, weight, k, x);
  }
}

}  // namespace ossdesk::cuda

// Dense products of prefill on tensor cores: y = W . x + bias (or +=) for a
// chunk of tokens and up to kMaxMatvecParts matrices sharing the input (q, k
// and v; o; the unembedding). The tile work is tensor_tile.cuh's.
#include <type_traits>

#include "tensor_tile.cuh"

namespace ossdesk::cuda {
namespace {

using tc::kTileM;
using tc::kTileN;

struct GemmParts {
  MatvecPart part[kMaxMatvecParts];
  int first_tile[kMaxMatvecParts + 1];  // part p owns the column tiles [first_tile[p], first_tile[p + 1])
  int count;
};

// blockIdx.x: a tile of tokens; blockIdx.y: a tile of one part's rows. Blocks
// that share a weight tile are neighbours in launch order, so it is read from
// memory about once and from L2 after.
template <int FORMAT, bool kSplit>
__global__ void __launch_bounds__(tc::kThreads, tc::kMinBlocksPerSm)
    gemm_kernel(GemmParts parts, const std::uint16_t* x_rows, int tokens) {
  await_previous_kernel();
  using T = typename tc::Operand<FORMAT>::type;
  __shared__ tc::DenseTiles<FORMAT, kSplit> s;
  __shared__ const T* rows[kTileM];
  int p = 0;
  while (static_cast<int>(blockIdx.y) >= parts.first_tile[p + 1]) ++p;
  const MatvecPart& part = parts.part[p];
  const int m0 = blockIdx.x * kTileM, n0 = (blockIdx.y - parts.first_tile[p]) * kTileN;
  if (threadIdx.x < kTileM) {
    const int t = m0 + threadIdx.x;
    rows[threadIdx.x] = t < tokens ? reinterpret_cast<const T*>(x_rows + static_cast<std::size_t>(t) * 2 * part.w.cols) : nullptr;
  }
  __syncthreads();
  const int r = n0 + tc::staged_row();
  tc::DenseWeightLoader<FORMAT> weights(part.w, r < part.w.rows ? r : -1);
  tc::multiply_tile(s, rows, part.w.cols, weights);
  for (int i = threadIdx.x; i < kTileM * kTileN; i += blockDim.x) {
    const int m = i / kTileN, n = i % kTileN;
    if (m0 + m >= tokens || n0 + n >= part.w.rows) continue;
    float* out = part.y + static_cast<std::size_t>(m0 + m) * part.y_stride + n0 + n;
    const float v = s.out[m * tc::kOutLd + n] + (part.bias ? part.bias[n0 + n] : 0.0f);
    *out = part.accumulate ? *out + v : v;
  }
}

template <int FORMAT>
void launch_gemm(const GemmParts& all, const dim3& grid, TensorPrecision precision, const std::uint16_t* x_rows, int tokens,
                 cudaStream_t s) {
  if (precision == TensorPrecision::Split)
    launch(gemm_kernel<FORMAT, true>, grid, tc::kThreads, s, all, x_rows, tokens);
  else
    launch(gemm_kernel<FORMAT, false>, grid, tc::kThreads, s, all, x_rows, tokens);
}

}  // namespace

TensorOperand gemm_operand(int format) {
  static_assert(std::is_same_v<tc::Operand<kDenseBF16>::type, __nv_bfloat16> &&
                std::is_same_v<tc::Operand<kDenseF16>::type, __half> && std::is_same_v<tc::Operand<kDenseQ8>::type, __half>);
  return format == kDenseBF16 ? TensorOperand::BF16 : TensorOperand::F16;
}

bool gemm_fusable(const MatvecPart* parts, int count) {
  if (count < 1 || count > kMaxMatvecParts) return false;
  const int format = parts[0].w.format;
  if (format != kDenseF16 && format != kDenseBF16 && format != kDenseQ8) return false;  // F32 has no exact operand type
  for (int p = 0; p < count; ++p)
    if (parts[p].w.format != format || parts[p].w.cols != parts[0].w.cols || parts[p].w.cols % tc::kTileK) return false;
  return true;
}

void gemm(const MatvecPart* parts, int count, const std::uint16_t* x_rows, int tokens, TensorPrecision precision,
          cudaStream_t s) {
  GemmParts all{};
  all.count = count;
  for (int p = 0; p < count; ++p) {
    all.part[p] = parts[p];
    all.first_tile[p + 1] = all.first_tile[p] + (parts[p].w.rows + kTileN - 1) / kTileN;
  }
  const dim3 grid((tokens + kTileM - 1) / kTileM, all.first_tile[count]);
  switch (parts[0].w.format) {
    case kDenseF16: launch_gemm<kDenseF16>(all, grid, precision, x_rows, tokens, s); break;
    case kDenseBF16: launch_gemm<kDenseBF16>(all, grid, precision, x_rows, tokens, s); break;
    default: launch_gemm<kDenseQ8>(all, grid, precision, x_rows, tokens, s); break;
  }
}

}  // namespace ossdesk::cuda

// Embedding lookup, RMSNorm and the dense matrix-vector product (q/k/v/o,
// unembedding) for every stored format.
#include "common.cuh"

namespace ossdesk::cuda {
namespace {

template <int FORMAT>
__global__ void embed_kernel(const std::uint8_t* data, std::uint64_t row_stride, int cols, const std::int32_t* tokens,
                             float* x) {
  await_previous_kernel();
  const int t = blockIdx.y;
  const std::uint8_t* row = data + static_cast<std::uint64_t>(tokens[t]) * row_stride;
  for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < cols; c += gridDim.x * blockDim.x)
    x[static_cast<std::size_t>(t) * cols + c] = dense_at<FORMAT>(row, c, cols);
}

__global__ void rmsnorm_kernel(const float* x, const float* weight, float* out, int dim, float eps) {
  await_previous_kernel();
  const float* row = x + static_cast<std::size_t>(blockIdx.x) * dim;
  const float inv = inverse_rms(row, dim, eps);
  float* o = out + static_cast<std::size_t>(blockIdx.x) * dim;
  for (int c = threadIdx.x; c < dim; c += blockDim.x) o[c] = row[c] * inv * weight[c];
}

// One warp per output row; blockIdx.y is the token.
template <int FORMAT>
__global__ void matvec_kernel(const std::uint8_t* data, std::uint64_t row_stride, int rows, int cols, const float* x,
                              int x_stride, const float* bias, float* y, int y_stride, bool accumulate) {
  await_previous_kernel();
  const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (row >= rows) return;
  const std::uint8_t* w = data + static_cast<std::uint64_t>(row) * row_stride;
  const float* xt = x + static_cast<std::size_t>(blockIdx.y) * x_stride;
  const float acc = warp_sum(row_dot_share<FORMAT>(w, xt, cols, lane));
  if (lane == 0) {
    float* out = y + static_cast<std::size_t>(blockIdx.y) * y_stride + row;
    const float v = acc + (bias ? bias[row] : 0.0f);
    *out = accumulate ? *out + v : v;
  }
}

// As matvec_kernel over the rows of all parts, the token's input staged (and
// normalised) in shared memory once per block. A warp takes `per_warp` rows,
// kRowsPerBlock apart, so that a tall matrix (the unembedding: 201088 rows)
// stages its input in a couple of thousand blocks rather than one per 8 rows.
template <int FORMAT>
__global__ void matvec_staged_kernel(MatvecParts parts, const float* x, int x_stride, int cols, const float* norm, float eps,
                                     int per_warp) {
  await_previous_kernel();
  __shared__ __align__(16) float xs[kMaxStagedCols];  // read as float4
  const int t = blockIdx.y;
  stage_row(x + static_cast<std::size_t>(t) * x_stride, cols, norm, eps, xs);
  const int warps = blockDim.x >> 5, lane = threadIdx.x & 31;
  for (int i = 0; i < per_warp; ++i) {
    const int row = (blockIdx.x * per_warp + i) * warps + (threadIdx.x >> 5);
    if (row >= parts.first_row[parts.count]) return;
    int p = 0;
    while (row >= parts.first_row[p + 1]) ++p;
    const MatvecPart& part = parts.part[p];
    const int r = row - parts.first_row[p];
    const float acc = warp_sum(row_dot_share<FORMAT>(part.w.data + static_cast<std::uint64_t>(r) * part.w.row_stride, xs, cols, lane));
    if (lane == 0) {
      float* out = part.y + static_cast<std::size_t>(t) * part.y_stride + r;
      const float v = acc + (part.bias ? part.bias[r] : 0.0f);
      *out = part.accumulate ? *out + v : v;
    }
  }
}

constexpr int kThreads = 256;
constexpr int kRowsPerBlock = kThreads / 32;
// A fused product spreads its rows over about this many blocks per token at
// most (a few waves on any GPU), each warp taking several rows beyond it.
constexpr int kStagedBlocks = 2048;

}  // namespace

void embed(const DenseMatrix& e, const std::int32_t* tokens, int count, float* x, cudaStream_t s) {
  const dim3 grid((e.cols + kThreads - 1) / kThreads, count);
  with_dense_format(e.format, [&](auto format) {
    launch(embed_kernel<decltype(format)::value>, grid, kThreads, s, e.data, e.row_stride, e.cols, tokens, x);
  });
}

void rmsnorm(const float* x, const float* weight, float* out, int rows, int dim, float eps, cudaStream_t s) {
  launch(rmsnorm_kernel, rows, kThreads, s, x, weight, out, dim, eps);
}

void matvec(const DenseMatrix& w, const float* x, int x_stride, const float* bias, float* y, int y_stride, int tokens,
            bool accumulate, cudaStream_t s) {
  const dim3 grid((w.rows + kRowsPerBlock - 1) / kRowsPerBlock, tokens);
  with_dense_format(w.format, [&](auto format) {
    launch(matvec_kernel<decltype(format)::value>, grid, kThreads, s, w.data, w.row_stride, w.rows, w.cols, x, x_stride, bias,
           y, y_stride, accumulate);
  });
}

bool matvec_fusable(const MatvecPart* parts, int count) {
  if (count < 1 || count > kMaxMatvecParts || parts[0].w.cols > kMaxStagedCols) return false;
  for (int p = 1; p < count; ++p)
    if (parts[p].w.format != parts[0].w.format || parts[p].w.cols != parts[0].w.cols) return false;
  return true;
}

void matvec_fused(const MatvecPart* parts, int count, const float* x, int x_stride, const float* norm_weight, float eps,
                  int tokens, cudaStream_t s) {
  const MatvecParts all = matvec_parts(parts, count);
  const int groups = (all.first_row[count] + kRowsPerBlock - 1) / kRowsPerBlock;  // of kRowsPerBlock rows
  const int per_warp = (groups + kStagedBlocks - 1) / kStagedBlocks;
  const dim3 grid((groups + per_warp - 1) / per_warp, tokens);
  const int cols = parts[0].w.cols;
  with_dense_format(parts[0].w.format, [&](auto format) {
    launch(matvec_staged_kernel<decltype(format)::value>, grid, kThreads, s, all, x, x_stride, cols, norm_weight, eps, per_warp);
  });
}

}  // namespace ossdesk::cuda

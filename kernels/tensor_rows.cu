// The input rows of the tensor-core products (gemm.cu, moe_grouped.cu),
// rounded to the operand type once per chunk (kernel_api.h, tensor_rows), so
// that the GEMMs' blocks copy their share of a row into shared memory as it
// is. Rounding in the tiles instead cost each block about three instructions a
// value every step, for rows that every column tile of the GEMM reads again.
// With the norm it replaces rmsnorm() before q/k/v and the unembedding.
#include "tensor_tile.cuh"

namespace ossdesk::cuda {
namespace {

constexpr int kThreads = 256;  // as rmsnorm(): the same block_sum, so the same normalised bits

// blockIdx.x: a row. Two values a thread a step, one word of hi (and of lo).
template <typename T, bool kSplit>
__global__ void tensor_rows_kernel(const float* x, int x_stride, const float* norm, float eps, int cols, std::uint16_t* out) {
  await_previous_kernel();
  const float* row = x + static_cast<std::size_t>(blockIdx.x) * x_stride;
  const float inv = norm ? inverse_rms(row, cols, eps) : 1.0f;
  unsigned* hi = reinterpret_cast<unsigned*>(out + static_cast<std::size_t>(blockIdx.x) * 2 * cols);
  unsigned* lo = hi + cols / 2;
  for (int p = threadIdx.x; p < cols / 2; p += blockDim.x) {
    const float2 pair = reinterpret_cast<const float2*>(row)[p];  // x_stride and cols even: 8-byte aligned
    float a = pair.x, b = pair.y;
    if (norm) {  // as rmsnorm(): (x * inv) * weight
      const float2 weight = reinterpret_cast<const float2*>(norm)[p];
      a = a * inv * weight.x;
      b = b * inv * weight.y;
    }
    hi[p] = tc::round_split<T, kSplit>(a, b, lo[p]);  // single: lo's half left as it is
  }
}

template <typename T>
void launch_rows(const float* x, int x_stride, const float* norm, float eps, int rows, int cols, TensorPrecision precision,
                 std::uint16_t* out, cudaStream_t s) {
  if (precision == TensorPrecision::Split)
    launch(tensor_rows_kernel<T, true>, rows, kThreads, s, x, x_stride, norm, eps, cols, out);
  else
    launch(tensor_rows_kernel<T, false>, rows, kThreads, s, x, x_stride, norm, eps, cols, out);
}

}  // namespace

void tensor_rows(const float* x, int x_stride, const float* norm_weight, float eps, int rows, int cols, TensorOperand type,
                 TensorPrecision precision, std::uint16_t* out, cudaStream_t s) {
  if (type == TensorOperand::BF16)
    launch_rows<__nv_bfloat16>(x, x_stride, norm_weight, eps, rows, cols, precision, out, s);
  else
    launch_rows<__half>(x, x_stride, norm_weight, eps, rows, cols, precision, out, s);
}

}  // namespace ossdesk::cuda

// The emulator itself: a block reduction through shuffles and barriers gives
// the exact sum, a warp's tensor-core product (wmma) of bf16 tiles in their
// stored layouts is exact, and a shuffle in a divergent branch, which a GPU
// would hang on, is reported as a launch failure that sticks.
#include <QtTest>

#include <vector>

#include "common.cuh"

namespace {

__global__ void block_total(const float* x, int n, float* out) {
  float v = 0.0f;
  for (int i = threadIdx.x; i < n; i += blockDim.x) v += x[i];
  v = ossdesk::cuda::block_sum(v);
  if (threadIdx.x == 0) out[blockIdx.x] = v;
}

// c = a b + 1 for one 16 x 16 x 16 tile: a row-major, b column-major, c row-major.
__global__ void tile_product(const __nv_bfloat16* a, const __nv_bfloat16* b, float* c) {
  namespace wmma = nvcuda::wmma;
  wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> fa;
  wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major> fb;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> fc;
  wmma::fill_fragment(fc, 1.0f);
  wmma::load_matrix_sync(fa, a, 16);
  wmma::load_matrix_sync(fb, b, 16);
  wmma::mma_sync(fc, fa, fb, fc);
  wmma::store_matrix_sync(c, fc, 16, wmma::mem_row_major);
}

__global__ void divergent_shuffle(float* out) {
  float v = 1.0f;
  if ((threadIdx.x & 31) < 16) v = ossdesk::cuda::warp_sum(v);  // half the warp never arrives
  out[threadIdx.x] = v;
}

}  // namespace

class TestCudaEmulator : public QObject {
  Q_OBJECT

 private slots:
  void block_sum_is_exact() {
    std::vector<float> x(1000);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7);
    float* out = nullptr;
    QCOMPARE(cudaMalloc(reinterpret_cast<void**>(&out), 3 * sizeof(float)), cudaSuccess);
    ossdesk::cuda::launch(block_total, 3, 256, nullptr, x.data(), static_cast<int>(x.size()), out);
    QCOMPARE(cudaStreamSynchronize(nullptr), cudaSuccess);
    float expected = 0;
    for (float v : x) expected += v;
    for (int b = 0; b < 3; ++b) QCOMPARE(out[b], expected);
    cudaFree(out);
  }

  void warp_tile_product_is_exact() {
    const int n = 16;
    __nv_bfloat16 *a = nullptr, *b = nullptr;
    float* c = nullptr;
    QCOMPARE(cudaMalloc(reinterpret_cast<void**>(&a), n * n * 2), cudaSuccess);
    QCOMPARE(cudaMalloc(reinterpret_cast<void**>(&b), n * n * 2), cudaSuccess);
    QCOMPARE(cudaMalloc(reinterpret_cast<void**>(&c), n * n * 4), cudaSuccess);
    auto a_at = [](int i, int k) { return static_cast<float>((i * 3 + k) % 7 - 3); };
    auto b_at = [](int k, int j) { return static_cast<float>((k * 5 + 2 * j) % 5 - 2) * 0.5f; };
    for (int i = 0; i < n; ++i)
      for (int k = 0; k < n; ++k) {
        a[i * n + k] = __float2bfloat16(a_at(i, k));
        b[i * n + k] = __float2bfloat16(b_at(k, i));  // column-major: column i holds b[.][i]
      }
    ossdesk::cuda::launch(tile_product, 1, 32, nullptr, a, b, c);
    QCOMPARE(cudaStreamSynchronize(nullptr), cudaSuccess);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        float expected = 1.0f;
        for (int k = 0; k < n; ++k) expected += a_at(i, k) * b_at(k, j);
        QCOMPARE(c[i * n + j], expected);
      }
    cudaFree(a);
    cudaFree(b);
    cudaFree(c);
  }

  // Last: the failure sticks for the rest of the process, as on a GPU.
  void divergent_shuffle_is_a_launch_failure() {
    std::vector<float> out(64, 0.0f);
    ossdesk::cuda::launch(divergent_shuffle, 1, 64, nullptr, out.data());
    QCOMPARE(cudaStreamSynchronize(nullptr), cudaErrorLaunchFailure);
    QCOMPARE(cudaGetLastError(), cudaErrorLaunchFailure);
  }
};

QTEST_GUILESS_MAIN(TestCudaEmulator)
#include "test_cuda_emulator.moc"

// The emulator itself: a block reduction through shuffles and barriers gives
// the exact sum, and a shuffle in a divergent branch, which a GPU would hang
// on, is reported as a launch failure that sticks.
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

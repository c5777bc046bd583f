// The emulator itself, and kernel arithmetic best checked bit by bit: a block
// reduction through shuffles and barriers gives the exact sum; a warp's
// tensor-core product (wmma) of bf16 tiles in their stored layouts is exact;
// Q8_0 codes decode to exact floats; FP4 codes (against the CPU backend's
// table) to the floats of the matrix-vector products, the int8 the dp4a path
// needs and the bf16 the tensor-core tiles stage, and moe_down on 8-bit
// activations computes exactly its integer products; a kernel that does not
// await the one before it fails; a shuffle in a divergent branch, which a GPU
// would hang on, is a launch failure that sticks.
#include <QtTest>

#include <bit>
#include <cmath>
#include <random>
#include <vector>

#include "common.cuh"
#include "util/half.h"

namespace {

// The reference value of an FP4 code: the CPU backend's table.
float fp4(unsigned code) { return ossdesk::kFp4E2M1Values[code & 15u]; }

__global__ void block_total(const float* x, int n, float* out) {
  ossdesk::cuda::await_previous_kernel();
  float v = 0.0f;
  for (int i = threadIdx.x; i < n; i += blockDim.x) v += x[i];
  v = ossdesk::cuda::block_sum(v);
  if (threadIdx.x == 0) out[blockIdx.x] = v;
}

// c = a b + 1 for one 16 x 16 x 16 tile: a row-major, b column-major, c row-major.
__global__ void tile_product(const __nv_bfloat16* a, const __nv_bfloat16* b, float* c) {
  ossdesk::cuda::await_previous_kernel();
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

__global__ void forgets_to_await(float* out) { out[threadIdx.x] = 1.0f; }

__global__ void divergent_shuffle(float* out) {
  ossdesk::cuda::await_previous_kernel();
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

  // The dp4a path's FP4 decoding (a device function, run here on the
  // emulator's __byte_perm): every code at every position of the 4 gives
  // twice its value in its byte.
  void fp4_codes_to_doubled_int8() {
    for (unsigned code = 0; code < 16; ++code)
      for (unsigned at = 0; at < 4; ++at) {
        unsigned codes = 0xABCD0000u;  // `code` at `at`, other codes around it, and bits above the 4 that must not matter
        for (unsigned i = 0; i < 4; ++i) codes |= (i == at ? code : (code + 5u * i + 2u) & 15u) << (4 * i);
        const int got = ossdesk::cuda::fp4x4_doubled(codes);
        for (unsigned i = 0; i < 4; ++i)
          QCOMPARE(static_cast<float>(static_cast<std::int8_t>(got >> (8 * i))),
                   2.0f * fp4(codes >> (4 * i) & 15u));
      }
  }

  // Q8_0 codes as floats by byte permutation and one subtraction: every int8
  // at every byte of a word is exact.
  void int8_codes_to_floats() {
    for (int v = -128; v < 128; ++v)
      for (unsigned at = 0; at < 4; ++at) {
        unsigned word = 0;  // v at `at`, other codes around it
        for (unsigned i = 0; i < 4; ++i) {
          const int code = i == at ? v : v * 3 + 7 * static_cast<int>(i);
          word |= static_cast<unsigned>(static_cast<std::uint8_t>(code)) << (8 * i);
        }
        float values[4];
        ossdesk::cuda::int8x4_to_float(word, values);
        for (unsigned i = 0; i < 4; ++i)
          QCOMPARE(std::bit_cast<std::uint32_t>(values[i]),
                   std::bit_cast<std::uint32_t>(static_cast<float>(static_cast<std::int8_t>(word >> (8 * i)))));
      }
  }

  // The matrix-vector products' FP4 decoding (byte permutations, run here on
  // the emulator's __byte_perm): every code at every position of a word gives
  // exactly the CPU's value, -0 included.
  void fp4_codes_to_floats() {
    for (unsigned code = 0; code < 16; ++code)
      for (unsigned at = 0; at < 8; ++at) {
        unsigned word = 0;  // `code` at `at`, other codes around it
        for (unsigned i = 0; i < 8; ++i) word |= (i == at ? code : (code + 7u * i + 1u) & 15u) << (4 * i);
        float values[8];
        ossdesk::cuda::fp4x8_to_float(word, values);
        for (unsigned i = 0; i < 8; ++i) {
          const float expected = fp4(word >> (4 * i) & 15u);
          QCOMPARE(std::bit_cast<std::uint32_t>(values[i]), std::bit_cast<std::uint32_t>(expected));
        }
      }
  }

  // The tensor-core tiles' FP4 decoding (byte permutations and a bf16x2
  // multiply, run here on the emulator's __byte_perm and the toolkit's host
  // bf16 product): every code at every position of a word, times every kind
  // of scale, gives the bits of the float path, the FP4 value x e8m0 rounded to
  // bf16 (on a GPU the bf16 product of a power of two is rounded once too).
  void fp4_codes_to_bf16_pairs() {
    const auto bits = [](__nv_bfloat16 v) { return static_cast<unsigned>(__bfloat16_as_ushort(v)); };
    for (const unsigned scale : {0u, 1u, 2u, 100u, 126u, 127u, 128u, 200u, 253u, 254u, 255u})
      for (unsigned code = 0; code < 16; ++code)
        for (unsigned at = 0; at < 4; ++at) {
          unsigned codes = 0;  // `code` at `at`, other codes around it
          for (unsigned i = 0; i < 4; ++i) codes |= (i == at ? code : (code + 5u * i + 3u) & 15u) << (4 * i);
          unsigned words[2];
          ossdesk::cuda::fp4x4_to_bf16x2(codes | 0xABCD0000u, ossdesk::cuda::e8m0_bf16x2(static_cast<std::uint8_t>(scale)), words[0],
                                         words[1]);
          for (unsigned i = 0; i < 4; ++i) {
            const unsigned c = codes >> (4 * i) & 15u;
            const float expected = fp4(c) * ossdesk::cuda::e8m0(static_cast<std::uint8_t>(scale));
            const unsigned got = words[i / 2] >> (16 * (i % 2)) & 0xFFFFu;
            if (std::isnan(expected)) {  // 0 x 2^128 (E8M0 255 is NaN in the format)
              QVERIFY2((got & 0x7F80u) == 0x7F80u && (got & 0x7Fu) != 0, qPrintable(QString::number(got, 16)));
              continue;
            }
            QCOMPARE(got, bits(__float2bfloat16(expected)));
          }
        }
  }

  // moe_down on 8-bit activations: it quantizes act as Q8Rows says (per 32
  // values a scale max|x| / 127, codes in the values' order), and its products are
  // exactly those codes times twice the FP4 values, scaled; within 8-bit
  // error of the float path.
  void dp4a_down_matches_its_8bit_arithmetic() {
    constexpr int kExperts = 2, kRows = 8, kCols = 96;
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    auto device = [](std::size_t bytes) {
      void* p = nullptr;
      return cudaMalloc(&p, bytes) == cudaSuccess ? p : nullptr;
    };
    auto* nibbles = static_cast<std::uint8_t*>(device(kExperts * kRows * kCols / 2));
    auto* scales = static_cast<std::uint8_t*>(device(kExperts * kRows * kCols / 32));
    auto* bias = static_cast<float*>(device(kExperts * kRows * 4));
    auto* act = static_cast<float*>(device(kCols * 4));
    auto* index = static_cast<std::int32_t*>(device(4));
    auto* weight = static_cast<float*>(device(4));
    auto* x = static_cast<float*>(device(2 * kRows * 4));
    ossdesk::cuda::Q8Rows q8{static_cast<std::int8_t*>(device(kCols)), static_cast<float*>(device(kCols / 32 * 4))};
    for (int i = 0; i < kExperts * kRows * kCols / 2; ++i) nibbles[i] = static_cast<std::uint8_t>(rng());
    for (int i = 0; i < kExperts * kRows * kCols / 32; ++i) scales[i] = static_cast<std::uint8_t>(122 + rng() % 8);
    for (int i = 0; i < kExperts * kRows; ++i) bias[i] = 0.0f;
    for (int c = 0; c < kCols; ++c) act[c] = normal(rng) * (c < 32 ? 10.0f : 1.0f);
    index[0] = 1;
    weight[0] = 1.0f;
    for (int i = 0; i < 2 * kRows; ++i) x[i] = 0.0f;
    const ossdesk::cuda::ExpertMatrices down{nibbles, scales, kRows, kCols};
    ossdesk::cuda::moe_down(down, bias, act, ossdesk::cuda::Q8Rows{}, index, weight, 1, 1, x, nullptr);
    ossdesk::cuda::moe_down(down, bias, act, q8, index, weight, 1, 1, x + kRows, nullptr);
    QCOMPARE(cudaStreamSynchronize(nullptr), cudaSuccess);
    std::vector<int> code(kCols);  // by element
    for (int b = 0; b < kCols / 32; ++b) {
      float amax = 0.0f;
      for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(act[b * 32 + i]));
      QCOMPARE(q8.scales[b], amax / 127.0f);
      for (int c = b * 32; c < b * 32 + 32; ++c) {
        code[c] = q8.codes[c];
        QCOMPARE(code[c], static_cast<int>(std::nearbyint(act[c] / q8.scales[b])));
      }
    }
    for (int r = 0; r < kRows; ++r) {
      const std::size_t row = static_cast<std::size_t>(1) * kRows + r;  // expert 1
      double expected = 0.0;
      for (int b = 0; b < kCols / 32; ++b) {
        long sum = 0;
        for (int c = b * 32; c < b * 32 + 32; ++c) {
          const unsigned nibble = nibbles[row * kCols / 2 + c / 2] >> (4 * (c & 1)) & 15u;
          sum += static_cast<long>(code[c]) * static_cast<long>(2.0f * fp4(nibble));
        }
        expected += static_cast<double>(sum) * 0.5 * std::ldexp(1.0, scales[row * kCols / 32 + b] - 127) * q8.scales[b];
      }
      QVERIFY(std::fabs(x[kRows + r] - expected) <= 1e-5 * (1.0 + std::fabs(expected)));
      QVERIFY(std::fabs(x[kRows + r] - x[r]) <= 0.03f * (1.0f + std::fabs(x[r])));  // 8-bit error only
    }
    for (void* p : {static_cast<void*>(nibbles), static_cast<void*>(scales), static_cast<void*>(bias), static_cast<void*>(act),
                    static_cast<void*>(index), static_cast<void*>(weight), static_cast<void*>(x), static_cast<void*>(q8.codes),
                    static_cast<void*>(q8.scales)})
      cudaFree(p);
  }

  // A kernel launched with programmatic dependent launch may start before
  // the one ahead of it ends; one that never waits for it could read stale
  // data on a GPU, so the emulator fails its launch.
  void a_kernel_that_never_awaits_the_previous_one_fails() {
    std::vector<float> out(64, 0.0f);
    ossdesk::cuda::launch(forgets_to_await, 1, 64, nullptr, out.data());
    QCOMPARE(cudaStreamSynchronize(nullptr), cudaErrorLaunchFailure);
    const std::string message = ossdesk_emu::clear_failure();
    QVERIFY2(message.find("never called await_previous_kernel()") != std::string::npos, message.c_str());
    QCOMPARE(cudaStreamSynchronize(nullptr), cudaSuccess);
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

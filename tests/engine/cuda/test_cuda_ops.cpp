// Every CUDA kernel against the CPU backend's op on the same inputs: the
// embedding, RMSNorm, the dense products in every format (matrix-vector,
// fused with the norm, and on tensor cores with bias and residual), q/k/v with
// RoPE and the KV append (in one launch, and as two), attention
// (per-token, flash attention on tensor cores, flash-decoding) over rings and
// windows, argmax over blocks, and the router (split over blocks, or a block
// per token) and the experts (matrix-vector, grouped on tensor cores, dp4a)
// on a synthesized layer whose shapes leave partial tiles, with 8 experts and
// with 120b's 128. cuda_ops runs the
// nvcc-built kernels and exits 77 (skipped) without a CUDA device;
// cuda_ops_emulated runs the same file on the CPU emulator of CUDA in CI.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "backends/cpu/kv_cache.h"
#include "backends/cpu/ops.h"
#include "backends/cpu/rope.h"
#include "backends/cuda/cuda_weights.h"
#include "backends/kv_rings.h"
#include "backends/sampling.h"
#include "golden_fixture.h"
#include "kernel_api.h"
#include "model/model.h"
#include "model/synth.h"
#include "op_checks.h"
#include "util/half.h"
#include "util/thread_pool.h"

using namespace ossdesk;

namespace {

// A device allocation of n values of T, filled from and read back to the host.
template <typename T>
class DeviceVector {
 public:
  explicit DeviceVector(std::size_t n) : n_(std::max<std::size_t>(n, 1)) {
    if (cudaMalloc(reinterpret_cast<void**>(&p_), n_ * sizeof(T)) != cudaSuccess) throw std::bad_alloc();
  }
  explicit DeviceVector(const std::vector<T>& host) : DeviceVector(host.size()) { upload(host); }
  ~DeviceVector() { cudaFree(p_); }
  DeviceVector(const DeviceVector&) = delete;
  DeviceVector& operator=(const DeviceVector&) = delete;
  void upload(const std::vector<T>& host) { cudaMemcpy(p_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice); }
  std::vector<T> download() const {
    std::vector<T> host(n_);
    cudaMemcpy(host.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost);
    return host;
  }
  T* get() const { return p_; }

 private:
  std::size_t n_;
  T* p_ = nullptr;
};

// A random dense matrix in a stored format, on the host (for the CPU op) and
// on the device in the layout the CUDA backend uploads (dense_device_rows).
struct DenseCase {
  std::vector<std::uint8_t> bytes;
  MatrixView view;
  std::unique_ptr<DeviceVector<std::uint8_t>> device;
  std::uint64_t device_stride = 0;
  cuda::DenseMatrix matrix() const {
    return cuda::DenseMatrix{device->get(), static_cast<int>(view.format == WeightFormat::F32    ? cuda::kDenseF32
                                                             : view.format == WeightFormat::F16  ? cuda::kDenseF16
                                                             : view.format == WeightFormat::BF16 ? cuda::kDenseBF16
                                                                                                 : cuda::kDenseQ8),
                             static_cast<int>(view.rows), static_cast<int>(view.cols), device_stride};
  }
};

DenseCase random_dense(WeightFormat format, int rows, int cols, std::mt19937& rng) {
  DenseCase d;
  const std::uint64_t stride = format == WeightFormat::F32   ? cols * 4ull
                               : format == WeightFormat::Q8_0 ? cols / 32 * 34ull
                                                              : cols * 2ull;
  d.bytes.resize(stride * rows);
  const auto values = test::random_floats(static_cast<std::size_t>(rows) * cols, rng, -0.5f, 0.5f);
  for (int r = 0; r < rows; ++r) {
    std::uint8_t* row = d.bytes.data() + stride * r;
    for (int c = 0; c < cols; ++c) {
      const float v = values[static_cast<std::size_t>(r) * cols + c];
      if (format == WeightFormat::F32) std::memcpy(row + 4 * c, &v, 4);
      if (format == WeightFormat::F16 || format == WeightFormat::BF16) {
        const std::uint16_t h = format == WeightFormat::F16 ? f32_to_f16(v) : f32_to_bf16(v);
        std::memcpy(row + 2 * c, &h, 2);
      }
    }
    if (format == WeightFormat::Q8_0)
      for (int b = 0; b < cols / 32; ++b) {
        const std::uint16_t scale = f32_to_f16(0.5f / 127.0f * (1.0f + 0.1f * static_cast<float>(b % 3)));
        std::memcpy(row + 34 * b, &scale, 2);
        for (int i = 0; i < 32; ++i) row[34 * b + 2 + i] = static_cast<std::uint8_t>(static_cast<std::int8_t>(rng() % 255 - 127));
      }
  }
  d.view.format = format;
  d.view.rows = rows;
  d.view.cols = cols;
  d.view.row_stride = stride;
  d.view.data = d.bytes.data();
  d.device = std::make_unique<DeviceVector<std::uint8_t>>(cuda::dense_device_rows(d.view, &d.device_stride));
  return d;
}

// Max over outputs of |got - ref| / (tol * sum_c |w_c x_c| + tol): a float dot
// product in another order, or with inputs kept to ~16 bits, stays below 1.
float dense_error_ratio(const MatrixView& w, const float* x, int tokens, const std::vector<float>& got,
                        const std::vector<float>& ref, float tol) {
  const std::vector<float> magnitude = test::product_magnitudes(w, x, tokens);
  float worst = 0.0f;
  for (std::size_t i = 0; i < ref.size(); ++i) worst = test::worst_of(worst, std::fabs(got[i] - ref[i]) / (tol * magnitude[i] + tol));
  return worst;
}

// The queued kernels ran without an error.
bool kernels_ran() { return cudaStreamSynchronize(nullptr) == cudaSuccess && cudaGetLastError() == cudaSuccess; }

}  // namespace

class TestCudaOps : public QObject {
  Q_OBJECT

  ThreadPool pool_{2};
  const cpu::OpContext ctx_{pool_, cpu::cpu_kernels()};
  ModelConfig config_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<cuda::CudaWeights> weights_;
  // The same shapes with gpt-oss-120b's 128 experts (the router's logits, the
  // grouping kernel's warps placing 4 experts each, tiles of a row or two).
  std::unique_ptr<Model> model_128_experts_;
  std::unique_ptr<cuda::CudaWeights> weights_128_experts_;

 private slots:
  void initTestCase() {
    SynthOptions o;
    o.config = config_preset("tiny");
    o.config.hidden_size = 160;  // 2.5 tiles of 64 rows, 5 steps of 32 columns
    o.config.intermediate_size = 96;
    o.config.vocab_size = 1000;
    o.out = std::string(OSSDESK_TEST_WORK_DIR) + "/cuda-ops-hf";
    o.seed = 21;
    synth_model(o);
    model_ = Model::open(o.out);
    config_ = model_->config();
    weights_ = std::make_unique<cuda::CudaWeights>(config_, model_->weights(), LoadControl{});
    o.config.num_experts = config_preset("120b").num_experts;
    o.out = std::string(OSSDESK_TEST_WORK_DIR) + "/cuda-ops-128-experts-hf";
    synth_model(o);
    model_128_experts_ = Model::open(o.out);
    weights_128_experts_ =
        std::make_unique<cuda::CudaWeights>(model_128_experts_->config(), model_128_experts_->weights(), LoadControl{});
  }

  void dense_products_match_cpu_matmul_data() {
    QTest::addColumn<int>("format");
    QTest::addColumn<int>("tokens");
    QTest::addColumn<int>("path");  // 0 matrix-vector, 1 tensor cores split (hi + lo), 2 tensor cores single
    const std::pair<WeightFormat, const char*> formats[] = {
        {WeightFormat::F32, "F32"}, {WeightFormat::F16, "F16"}, {WeightFormat::BF16, "BF16"}, {WeightFormat::Q8_0, "Q8_0"}};
    for (const auto& [f, name] : formats) {
      QTest::newRow(qPrintable(QString("%1, 3 tokens").arg(name))) << static_cast<int>(f) << 3 << 0;
      if (f == WeightFormat::F32) continue;  // no tensor-core operand holds F32 exactly
      QTest::newRow(qPrintable(QString("%1, 70 tokens, tensor cores").arg(name))) << static_cast<int>(f) << 70 << 1;
      QTest::newRow(qPrintable(QString("%1, 70 tokens, tensor cores, single").arg(name))) << static_cast<int>(f) << 70 << 2;
    }
  }

  // Two matrices sharing the input (as q and k): matvec_fused with the norm
  // fused, or tensor_rows (with the norm) then gemm; then a third with bias and += on tensor
  // cores or matvec, against rmsnorm + matmul on the CPU.
  void dense_products_match_cpu_matmul() {
    QFETCH(int, format);
    QFETCH(int, tokens);
    QFETCH(int, path);
    const bool tensor_cores = path > 0;
    const cuda::TensorPrecision precision = path == 2 ? cuda::TensorPrecision::Single : cuda::TensorPrecision::Split;
    std::mt19937 rng(static_cast<unsigned>(format * 31 + tokens));
    const int cols = 160;
    const DenseCase a = random_dense(static_cast<WeightFormat>(format), 200, cols, rng);
    const DenseCase b = random_dense(static_cast<WeightFormat>(format), 72, cols, rng);
    const auto x = test::random_floats(static_cast<std::size_t>(tokens) * cols, rng, -2.0f, 2.0f);
    const auto norm = test::random_floats(cols, rng);
    const auto bias = test::random_floats(72, rng);
    const auto start = test::random_floats(static_cast<std::size_t>(tokens) * 72, rng);

    std::vector<float> normed(x.size());
    cpu::rmsnorm(x.data(), test::float_view(norm), 1e-5, tokens, cols, normed.data());
    std::vector<float> ref_a(static_cast<std::size_t>(tokens) * 200), ref_b(static_cast<std::size_t>(tokens) * 72);
    cpu::matmul(ctx_, a.view, nullptr, normed.data(), tokens, ref_a.data());
    const VectorView bias_view = test::float_view(bias);
    cpu::matmul(ctx_, b.view, &bias_view, normed.data(), tokens, ref_b.data());
    for (std::size_t i = 0; i < ref_b.size(); ++i) ref_b[i] += start[i];

    DeviceVector<float> dx(x), dnorm(norm), dbias(bias), dnormed(x.size());
    DeviceVector<float> ya(ref_a.size()), yb(start);
    const cuda::MatvecPart first[] = {cuda::MatvecPart{a.matrix(), nullptr, ya.get(), 200}};
    const cuda::MatvecPart second[] = {cuda::MatvecPart{b.matrix(), dbias.get(), yb.get(), 72, /*accumulate=*/true}};
    if (tensor_cores) {
      QVERIFY(cuda::gemm_fusable(first, 1));
      DeviceVector<std::uint16_t> rows(static_cast<std::size_t>(tokens) * 2 * cols);
      cuda::tensor_rows(dx.get(), cols, dnorm.get(), 1e-5f, tokens, cols, cuda::gemm_operand(first[0].w.format), precision,
                        rows.get(), nullptr);
      cuda::gemm(first, 1, rows.get(), tokens, precision, nullptr);
      cuda::gemm(second, 1, rows.get(), tokens, precision, nullptr);
    } else {
      QVERIFY(cuda::matvec_fusable(first, 1));
      cuda::matvec_fused(first, 1, dx.get(), cols, dnorm.get(), 1e-5f, tokens, nullptr);
      cuda::rmsnorm(dx.get(), dnorm.get(), dnormed.get(), tokens, cols, 1e-5f, nullptr);
      cuda::matvec(b.matrix(), dnormed.get(), cols, dbias.get(), yb.get(), 72, tokens, true, nullptr);
    }
    QVERIFY(kernels_ran());
    // Single: each product's input (and a Q8_0 weight) rounded once, to bf16
    // (relative 2^-9) or f16 (2^-12): twice that bounds the sum's error.
    const float split_tol = 5e-5f;
    const float single_tol = format == static_cast<int>(WeightFormat::BF16) ? 4e-3f : format == static_cast<int>(WeightFormat::Q8_0) ? 1e-3f : 5e-4f;
    const float tol = path == 0 ? 1e-5f : path == 1 ? split_tol : single_tol;
    const float ra = dense_error_ratio(a.view, normed.data(), tokens, ya.download(), ref_a, tol);
    const float rb = dense_error_ratio(b.view, normed.data(), tokens, yb.download(), ref_b, tol);
    qInfo("error / bound: %g, %g", ra, rb);
    QVERIFY(ra <= 1.0f);
    QVERIFY(rb <= 1.0f);
    // The single product is really coarser: outside the split path's bound.
    if (path == 2) QVERIFY(dense_error_ratio(a.view, normed.data(), tokens, ya.download(), ref_a, split_tol) > 1.0f);
  }

  void tensor_rows_round_each_value_once_data() {
    QTest::addColumn<bool>("f16");
    QTest::addColumn<bool>("split");
    QTest::addColumn<bool>("normed");
    for (const bool f16 : {false, true})
      for (const bool split : {true, false})
        for (const bool normed : {true, false})
          QTest::addRow("%s, %s, %s", f16 ? "f16" : "bf16", split ? "split" : "single", normed ? "with the norm" : "as they are")
              << f16 << split << normed;
  }

  // tensor_rows, the tensor-core products' input: each value (normalised with
  // rmsnorm()'s bits) as hi, its rounding to nearest in bf16 or f16, then, split,
  // lo, what hi leaves of it rounded in turn; single leaves lo's half as it was.
  void tensor_rows_round_each_value_once() {
    QFETCH(bool, f16);
    QFETCH(bool, split);
    QFETCH(bool, normed);
    const int rows = 3, cols = 160, stride = 176;  // rows read at their stride, not at cols
    std::mt19937 rng(static_cast<unsigned>(f16 * 4 + split * 2 + normed));
    std::vector<float> x(static_cast<std::size_t>(rows) * stride);
    std::uniform_real_distribution<float> exponent(-12.0f, 6.0f);
    for (float& v : x) v = std::exp2(exponent(rng)) * (rng() % 2 ? 1.0f : -1.0f);  // every binade bf16 and f16 hold
    const auto norm = test::random_floats(cols, rng);

    std::vector<float> compact(static_cast<std::size_t>(rows) * cols), expected;
    for (int r = 0; r < rows; ++r) std::copy_n(x.begin() + r * stride, cols, compact.begin() + r * cols);
    expected = compact;
    DeviceVector<float> dx(x), dnorm(norm);
    if (normed) {
      DeviceVector<float> dcompact(compact), dnormed(compact.size());
      cuda::rmsnorm(dcompact.get(), dnorm.get(), dnormed.get(), rows, cols, 1e-5f, nullptr);
      expected = dnormed.download();
    }
    constexpr std::uint16_t kUntouched = 0xabcd;
    DeviceVector<std::uint16_t> out(std::vector<std::uint16_t>(static_cast<std::size_t>(rows) * 2 * cols, kUntouched));
    cuda::tensor_rows(dx.get(), stride, normed ? dnorm.get() : nullptr, 1e-5f, rows, cols,
                      f16 ? cuda::TensorOperand::F16 : cuda::TensorOperand::BF16,
                      split ? cuda::TensorPrecision::Split : cuda::TensorPrecision::Single, out.get(), nullptr);
    QVERIFY(kernels_ran());
    const auto got = out.download();
    const auto round = [f16](float v) { return f16 ? f32_to_f16(v) : f32_to_bf16(v); };
    const auto value = [f16](std::uint16_t h) { return f16 ? f16_to_f32(h) : bf16_to_f32(h); };
    int wrong = 0, lo_nonzero = 0;
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) {
        const float v = expected[static_cast<std::size_t>(r) * cols + c];
        const std::uint16_t hi = round(v);
        const std::uint16_t lo = split ? round(v - value(hi)) : kUntouched;
        const std::size_t at = static_cast<std::size_t>(r) * 2 * cols + c;
        wrong += (got[at] != hi) + (got[at + cols] != lo);
        lo_nonzero += split && value(lo) != 0.0f;
      }
    QCOMPARE(wrong, 0);
    if (split) QVERIFY(lo_nonzero > rows * cols / 2);  // the lo halves carry bits, not zeros
  }

  // A matrix as tall as an unembedding: matvec_fused gives each warp several
  // rows once the rows outnumber 2048 blocks of 8; every row must still be
  // written, the last partial group included.
  void tall_fused_product_covers_every_row() {
    std::mt19937 rng(9);
    const int rows = 8 * 2048 * 2 + 77, cols = 64, tokens = 2;
    const DenseCase w = random_dense(WeightFormat::Q8_0, rows, cols, rng);
    const auto x = test::random_floats(static_cast<std::size_t>(tokens) * cols, rng, -2.0f, 2.0f);
    const auto norm = test::random_floats(cols, rng);
    std::vector<float> normed(x.size()), ref(static_cast<std::size_t>(tokens) * rows);
    cpu::rmsnorm(x.data(), test::float_view(norm), 1e-5, tokens, cols, normed.data());
    cpu::matmul(ctx_, w.view, nullptr, normed.data(), tokens, ref.data());
    DeviceVector<float> dx(x), dnorm(norm), y(ref.size());
    const cuda::MatvecPart part[] = {cuda::MatvecPart{w.matrix(), nullptr, y.get(), rows}};
    QVERIFY(cuda::matvec_fusable(part, 1));
    cuda::matvec_fused(part, 1, dx.get(), cols, dnorm.get(), 1e-5f, tokens, nullptr);
    QVERIFY(kernels_ran());
    const float ratio = dense_error_ratio(w.view, normed.data(), tokens, y.download(), ref, 1e-5f);
    qInfo("error / bound: %g", ratio);
    QVERIFY(ratio <= 1.0f);  // a row never written is left NaN by the emulator, which fails this
  }

  // argmax spreads over 64 blocks' slices: a tie between two slices, or
  // between two threads of one block, keeps the lower id, NaN never wins, and
  // a row of NaN picks 0.
  void argmax_over_blocks_keeps_the_lower_id() {
    std::mt19937 rng(5);
    auto logits = test::random_floats(20000, rng, -5.0f, 5.0f);
    logits[15000] = 9.0f;
    logits[7000] = 9.0f;
    logits[7001] = 9.0f;  // the same block's next thread
    logits[3] = std::nanf("");
    DeviceVector<float> dlogits(logits);
    DeviceVector<std::uint8_t> scratch(std::vector<std::uint8_t>(cuda::sample_scratch_bytes(), 0));
    DeviceVector<std::int32_t> out(1);
    cuda::argmax(dlogits.get(), static_cast<int>(logits.size()), scratch.get(), out.get(), nullptr);
    QVERIFY(kernels_ran());
    QCOMPARE(out.download()[0], 7000);
    logits[15000] = 9.5f;  // the later slice's value now larger
    dlogits.upload(logits);
    cuda::argmax(dlogits.get(), static_cast<int>(logits.size()), scratch.get(), out.get(), nullptr);
    QVERIFY(kernels_ran());
    QCOMPARE(out.download()[0], 15000);
    dlogits.upload(std::vector<float>(logits.size(), std::nanf("")));
    cuda::argmax(dlogits.get(), static_cast<int>(logits.size()), scratch.get(), out.get(), nullptr);
    QVERIFY(kernels_ran());
    QCOMPARE(out.download()[0], 0);
  }

  // A draw spread over 64 blocks picks what sample_token picks from the same
  // uniform, for each filter set, on a row of distinct logits with non-finite
  // ones; with u = 0 it picks the most likely token (the crossing is strict).
  void draw_over_blocks_follows_the_host_sampler() {
    std::mt19937 rng(6);
    const std::vector<float> logits = test::distinct_logits(20000, 5, rng);
    const int n = static_cast<int>(logits.size());
    DeviceVector<float> dlogits(logits);
    DeviceVector<std::uint8_t> scratch(std::vector<std::uint8_t>(cuda::sample_scratch_bytes(), 0));
    DeviceVector<std::int32_t> out(1);
    std::vector<std::pair<float, TokenId>> host_scratch;
    // temperature, top_k, top_p, min_p
    for (const SamplingParams f : {SamplingParams{1.0f, 0, 1.0f, 0.0f}, SamplingParams{0.3f, 40, 1.0f, 0.0f},
                                   SamplingParams{1.0f, 0, 0.9f, 0.0f}, SamplingParams{1.0f, 0, 1.0f, 0.05f},
                                   SamplingParams{0.8f, 100, 0.8f, 0.02f}}) {
      SamplerState device_state(11), host_state(11);
      const auto draw = [&](float u) {
        const cuda::SampleArgs args{1.0f / f.temperature, f.top_k, f.top_p, f.min_p, u};
        DeviceVector<cuda::SampleArgs> dargs(std::vector<cuda::SampleArgs>{args});
        cuda::sample(dlogits.get(), n, dargs.get(), f.top_k > 0, f.top_p < 1.0f, scratch.get(), out.get(), nullptr);
        return kernels_ran() ? out.download()[0] : -1;
      };
      for (int d = 0; d < 4; ++d) {
        const std::int32_t got = draw(static_cast<float>(device_state.next_unit()));
        std::vector<float> copy = logits;
        QCOMPARE(got, sample_token(copy, f, host_state, host_scratch));
      }
      QCOMPARE(draw(0.0f), test::most_likely_finite(logits));
    }
  }

  void embed_and_rmsnorm_match_cpu() {
    std::mt19937 rng(4);
    for (WeightFormat f : {WeightFormat::F32, WeightFormat::F16, WeightFormat::BF16, WeightFormat::Q8_0}) {
      const DenseCase table = random_dense(f, 50, 96, rng);
      const std::vector<std::int32_t> tokens = {0, 49, 7, 7};
      DeviceVector<std::int32_t> dtokens(tokens);
      DeviceVector<float> out(tokens.size() * 96);
      cuda::embed(table.matrix(), dtokens.get(), static_cast<int>(tokens.size()), out.get(), nullptr);
      QVERIFY(kernels_ran());
      const auto got = out.download();
      std::vector<float> ref(96);
      for (std::size_t t = 0; t < tokens.size(); ++t) {
        cpu::embed(ctx_, table.view, tokens[t], ref.data());
        for (int c = 0; c < 96; ++c) QCOMPARE(got[t * 96 + c], ref[static_cast<std::size_t>(c)]);
      }
    }
    const auto x = test::random_floats(3 * 1000, rng, -3.0f, 3.0f);
    const auto scale = test::random_floats(1000, rng);
    std::vector<float> ref(x.size());
    cpu::rmsnorm(x.data(), test::float_view(scale), 1e-5, 3, 1000, ref.data());
    DeviceVector<float> dx(x), dscale(scale), out(x.size());
    cuda::rmsnorm(dx.get(), dscale.get(), out.get(), 3, 1000, 1e-5f, nullptr);
    QVERIFY(kernels_ran());
    QVERIFY(test::max_abs_diff(out.download().data(), ref.data(), ref.size()) < 1e-5f);
  }

  void attention_input_matches_cpu_rope_data() {
    QTest::addColumn<int>("format");
    QTest::addColumn<int>("layer");
    QTest::addColumn<int>("first");
    QTest::addColumn<int>("tokens");
    QTest::addColumn<bool>("fused");
    const std::pair<WeightFormat, const char*> formats[] = {
        {WeightFormat::F32, "F32"}, {WeightFormat::BF16, "BF16"}, {WeightFormat::Q8_0, "Q8_0"}};
    for (const auto& [f, name] : formats)
      for (bool fused : {true, false}) {
        const char* how = fused ? "one launch" : "matvec_fused + rope_kv_write";
        // sliding: a ring of window + batch = 16 slots, so position 30 lands in slot 14
        QTest::newRow(qPrintable(QString("%1, sliding, 1 at 30, %2").arg(name, how))) << static_cast<int>(f) << 0 << 30 << 1 << fused;
        QTest::newRow(qPrintable(QString("%1, full, 3 at 5, %2").arg(name, how))) << static_cast<int>(f) << 1 << 5 << 3 << fused;
      }
  }

  // The attention input of a chunk: q/k/v of the normalised input with
  // biases, RoPE at the chunk's positions, k and v appended to the f16 cache,
  // against rmsnorm + matmul + cpu::YarnRope; either in one launch
  // (qkv_rope_fused, decode) or as the product then rope_kv_write. Nothing
  // else in the cache changes, and the fused kernel leaves the float k and v
  // buffers alone.
  void attention_input_matches_cpu_rope() {
    QFETCH(int, format);
    QFETCH(int, layer);
    QFETCH(int, first);
    QFETCH(int, tokens);
    QFETCH(bool, fused);
    const ModelConfig& c = config_;
    const int H = c.hidden_size, Q = c.q_dim(), KV = c.kv_dim();
    std::mt19937 rng(static_cast<unsigned>(format * 100 + layer * 10 + tokens));
    const DenseCase wq = random_dense(static_cast<WeightFormat>(format), Q, H, rng);
    const DenseCase wk = random_dense(static_cast<WeightFormat>(format), KV, H, rng);
    const DenseCase wv = random_dense(static_cast<WeightFormat>(format), KV, H, rng);
    const auto x = test::random_floats(static_cast<std::size_t>(tokens) * H, rng, -2.0f, 2.0f);
    const auto norm = test::random_floats(H, rng);
    const auto bq = test::random_floats(Q, rng), bk = test::random_floats(KV, rng), bv = test::random_floats(KV, rng);

    std::vector<float> normed(x.size());
    cpu::rmsnorm(x.data(), test::float_view(norm), c.rms_norm_eps, tokens, H, normed.data());
    std::vector<float> q(static_cast<std::size_t>(tokens) * Q), k(static_cast<std::size_t>(tokens) * KV), v(k.size());
    const VectorView bq_view = test::float_view(bq), bk_view = test::float_view(bk), bv_view = test::float_view(bv);
    cpu::matmul(ctx_, wq.view, &bq_view, normed.data(), tokens, q.data());
    cpu::matmul(ctx_, wk.view, &bk_view, normed.data(), tokens, k.data());
    cpu::matmul(ctx_, wv.view, &bv_view, normed.data(), tokens, v.data());
    const cpu::YarnRope rope(c);
    std::vector<float> cos_t(static_cast<std::size_t>(rope.half_dim())), sin_t(cos_t.size());
    for (int t = 0; t < tokens; ++t) {
      rope.tables(first + t, cos_t.data(), sin_t.data());
      rope.apply(q.data() + static_cast<std::size_t>(t) * Q, c.num_heads, cos_t.data(), sin_t.data());
      rope.apply(k.data() + static_cast<std::size_t>(t) * KV, c.num_kv_heads, cos_t.data(), sin_t.data());
    }

    const KvRings rings(c, 64, 8);
    const int ring = rings.ring(layer), slot_total = rings.slot_count(layer);
    const std::vector<std::uint16_t> marker(static_cast<std::size_t>(slot_total) * KV, 0x5555);  // 85.3 in f16
    const std::vector<float> unwritten(k.size(), 7.0f);
    DeviceVector<float> dx(x), dnorm(norm), dbq(bq), dbk(bk), dbv(bv), dq(q.size()), dk(unwritten), dv(unwritten);
    DeviceVector<float> inv_freq(rope.inv_freq());
    DeviceVector<std::uint16_t> keys(marker), values(marker);
    DeviceVector<std::int32_t> position(std::vector<std::int32_t>{first});
    const cuda::MatvecPart parts[] = {cuda::MatvecPart{wq.matrix(), dbq.get(), dq.get(), Q},
                                      cuda::MatvecPart{wk.matrix(), dbk.get(), dk.get(), KV},
                                      cuda::MatvecPart{wv.matrix(), dbv.get(), dv.get(), KV}};
    const cuda::RopeKvAppend append{inv_freq.get(), rope.half_dim(), rope.concentration(), keys.get(), values.get(), ring,
                                    position.get()};
    const float eps = static_cast<float>(c.rms_norm_eps);
    if (fused) {
      QVERIFY(cuda::qkv_rope_fusable(parts, append));
      cuda::qkv_rope_fused(parts, dx.get(), H, dnorm.get(), eps, append, tokens, nullptr);
    } else {
      QVERIFY(cuda::matvec_fusable(parts, 3));
      cuda::matvec_fused(parts, 3, dx.get(), H, dnorm.get(), eps, tokens, nullptr);
      cuda::rope_kv_write(dq.get(), dk.get(), dv.get(), c.num_heads, c.num_kv_heads, append, tokens, nullptr);
    }
    QVERIFY(kernels_ran());

    const float q_diff = test::max_abs_diff(dq.download().data(), q.data(), q.size());
    // The cache holds f16: the reference rounded, give or take the one ulp a float difference can tip.
    const auto got_keys = keys.download(), got_values = values.download();
    float cache_error = 0.0f;  // in f16 ulps of the reference
    int changed_elsewhere = 0;
    for (int slot = 0; slot < slot_total; ++slot) {
      int t = -1;
      for (int i = 0; i < tokens; ++i)
        if ((ring > 0 ? (first + i) % ring : first + i) == slot) t = i;
      for (int d = 0; d < KV; ++d) {
        const std::size_t at = static_cast<std::size_t>(slot) * KV + d;
        if (t < 0) {
          changed_elsewhere += got_keys[at] != 0x5555 || got_values[at] != 0x5555;
          continue;
        }
        const std::size_t ref_at = static_cast<std::size_t>(t) * KV + d;
        for (const auto& [got, ref] : {std::pair{got_keys[at], k[ref_at]}, std::pair{got_values[at], v[ref_at]}}) {
          const float ulp = std::max(std::fabs(ref), 6.1e-5f) * 0x1p-10f;
          cache_error = test::worst_of(cache_error, std::fabs(f16_to_f32(got) - ref) / ulp);
        }
      }
    }
    qInfo("q: max |diff| = %g; cache: %g f16 ulps", q_diff, cache_error);
    QVERIFY(q_diff < 1e-4f);
    QVERIFY(cache_error <= 1.0f);
    QCOMPARE(changed_elsewhere, 0);
    if (fused) {
      QCOMPARE(dk.download(), unwritten);
      QCOMPARE(dv.download(), unwritten);
    }
  }

  void attention_matches_cpu_data() {
    QTest::addColumn<int>("layer");
    QTest::addColumn<int>("first");
    QTest::addColumn<int>("tokens");
    QTest::addColumn<int>("kernel");  // 0 per token, 1 flash on tensor cores, 2 flash-decoding
    for (int layer : {0, 1}) {  // sliding (window 8, a ring), full
      const char* kind = layer == 0 ? "sliding" : "full";
      QTest::newRow(qPrintable(QString("%1, 5 at 30, per token").arg(kind))) << layer << 30 << 5 << 0;
      QTest::newRow(qPrintable(QString("%1, 70 at 0, per token").arg(kind))) << layer << 0 << 70 << 0;
      QTest::newRow(qPrintable(QString("%1, 70 at 0, tensor cores").arg(kind))) << layer << 0 << 70 << 1;
      QTest::newRow(qPrintable(QString("%1, 40 at 37, tensor cores").arg(kind))) << layer << 37 << 40 << 1;
      QTest::newRow(qPrintable(QString("%1, 1 at 0, decode").arg(kind))) << layer << 0 << 1 << 2;
      QTest::newRow(qPrintable(QString("%1, 1 at 90, decode").arg(kind))) << layer << 90 << 1 << 2;
      // 4 splits over a 512-token cache on the full layer, merged by whichever block ends last.
      QTest::newRow(qPrintable(QString("%1, 1 at 400, decode").arg(kind))) << layer << 400 << 1 << 2;
    }
  }

  // Keys and values of positions 0 .. first+tokens-1 (f16 values) in the CPU
  // cache and in the device's f16 ring; the chunk's queries attend.
  void attention_matches_cpu() {
    QFETCH(int, layer);
    QFETCH(int, first);
    QFETCH(int, tokens);
    QFETCH(int, kernel);
    const ModelConfig& c = config_;
    const int context = 512, batch = 80;
    const KvRings rings(c, context, batch);
    cpu::KvCache cache(c, context, batch);
    const int kv_dim = c.kv_dim(), ring = rings.ring(layer);
    std::vector<std::uint16_t> keys(static_cast<std::size_t>(rings.slot_count(layer)) * kv_dim),
        values(keys.size());
    std::mt19937 rng(static_cast<unsigned>(layer * 1000 + first * 10 + tokens));
    for (int pos = 0; pos < first + tokens; ++pos) {
      const auto k = test::random_floats(static_cast<std::size_t>(kv_dim), rng, -2.0f, 2.0f);
      const auto v = test::random_floats(static_cast<std::size_t>(kv_dim), rng);
      const std::size_t slot = static_cast<std::size_t>(ring > 0 ? pos % ring : pos);
      std::vector<float> k_rounded(static_cast<std::size_t>(kv_dim)), v_rounded(k_rounded.size());
      for (int d = 0; d < kv_dim; ++d) {
        keys[slot * kv_dim + d] = f32_to_f16(k[static_cast<std::size_t>(d)]);
        values[slot * kv_dim + d] = f32_to_f16(v[static_cast<std::size_t>(d)]);
        k_rounded[static_cast<std::size_t>(d)] = f16_to_f32(keys[slot * kv_dim + d]);
        v_rounded[static_cast<std::size_t>(d)] = f16_to_f32(values[slot * kv_dim + d]);
      }
      cache.store(layer, pos, k_rounded.data(), v_rounded.data());
    }
    const auto q = test::random_floats(static_cast<std::size_t>(tokens) * c.q_dim(), rng, -2.0f, 2.0f);
    const LayerWeights& L = model_->weights().layers[static_cast<std::size_t>(layer)];
    const int window = c.layer_is_sliding[static_cast<std::size_t>(layer)] ? c.sliding_window : 0;
    std::vector<float> ref(q.size());
    cpu::attention(ctx_, cache, layer, cpu::AttentionShape{c.num_heads, c.num_kv_heads, c.head_dim, window}, L.sinks, q.data(),
                   first, tokens, ref.data());

    DeviceVector<float> dq(q), out(q.size());
    DeviceVector<std::uint16_t> dkeys(keys), dvalues(values);
    DeviceVector<std::int32_t> position(std::vector<std::int32_t>{first});
    DeviceVector<float> partial(static_cast<std::size_t>(cuda::kMaxDecodeSplits) * c.num_heads * (c.head_dim + 2));
    DeviceVector<std::uint32_t> arrivals(std::vector<std::uint32_t>(static_cast<std::size_t>(c.num_kv_heads), 0));
    const float* sinks = weights_->layers[static_cast<std::size_t>(layer)].sinks;
    const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
    if (kernel == 0) {
      cuda::attention(dq.get(), dkeys.get(), dvalues.get(), sinks, out.get(), c.num_heads, c.num_kv_heads, c.head_dim, window,
                      ring, scale, position.get(), tokens, nullptr);
    } else if (kernel == 1) {
      QVERIFY(cuda::attention_on_tensor_cores(c.head_dim));
      cuda::attention_tensor_cores(dq.get(), dkeys.get(), dvalues.get(), sinks, out.get(), c.num_heads, c.num_kv_heads, window,
                                   ring, scale, position.get(), tokens, nullptr);
    } else {
      const int max_keys = window > 0 ? std::min(window, rings.capacity()) : rings.capacity();
      cuda::attention_decode(dq.get(), dkeys.get(), dvalues.get(), sinks, out.get(), c.num_heads, c.num_kv_heads, c.head_dim,
                             window, ring, scale, position.get(), cuda::attention_decode_splits(max_keys),
                             cuda::DecodeSplits{partial.get(), arrivals.get()}, nullptr);
    }
    QVERIFY(kernels_ran());
    const float diff = test::max_abs_diff(out.download().data(), ref.data(), ref.size());
    qInfo("max |diff| = %g", diff);
    QVERIFY(diff < (kernel == 1 ? 1e-4f : 1e-5f));
    // Flash-decoding's last block leaves the arrival counters at zero for the next launch.
    if (kernel == 2) QCOMPARE(arrivals.download(), std::vector<std::uint32_t>(static_cast<std::size_t>(c.num_kv_heads), 0));
  }

  void experts_match_cpu_moe_data() {
    QTest::addColumn<int>("tokens");
    QTest::addColumn<int>("path");  // 0 matrix-vector, 1 grouped on tensor cores, 2 dp4a, 3 grouped single
    QTest::addColumn<int>("k");     // experts per token (the model's: 4)
    QTest::addColumn<int>("experts");  // 8, or 128 as gpt-oss-120b
    QTest::addColumn<bool>("clamped");  // SwiGLU at kTightSwigluLimit, not the model's 7 (which these activations stay under)
    QTest::newRow("3 tokens, matrix-vector") << 3 << 0 << 4 << 8 << false;
    QTest::newRow("70 tokens, matrix-vector") << 70 << 0 << 4 << 8 << false;
    QTest::newRow("70 tokens, grouped on tensor cores") << 70 << 1 << 4 << 8 << false;
    QTest::newRow("3 tokens, grouped on tensor cores") << 3 << 1 << 4 << 8 << false;
    QTest::newRow("70 tokens, grouped on tensor cores, single") << 70 << 3 << 4 << 8 << false;
    QTest::newRow("3 tokens, dp4a") << 3 << 2 << 4 << 8 << false;
    // moe_down reads the experts' rows four, two, then one at a time: 3 = 2 + 1
    QTest::newRow("3 tokens, matrix-vector, top 3") << 3 << 0 << 3 << 8 << false;
    QTest::newRow("3 tokens, dp4a, top 3") << 3 << 2 << 3 << 8 << false;
    // 3 tokens: the router split over blocks; 70: a block per token
    QTest::newRow("3 tokens, matrix-vector, 128 experts") << 3 << 0 << 4 << 128 << false;
    QTest::newRow("70 tokens, matrix-vector, 128 experts") << 70 << 0 << 4 << 128 << false;
    QTest::newRow("70 tokens, grouped on tensor cores, 128 experts") << 70 << 1 << 4 << 128 << false;
    QTest::newRow("3 tokens, dp4a, 128 experts") << 3 << 2 << 4 << 128 << false;
    // A limit the gate and up values cross, so a clamp left out shows
    QTest::newRow("3 tokens, matrix-vector, clamped") << 3 << 0 << 4 << 8 << true;
    QTest::newRow("70 tokens, grouped on tensor cores, clamped") << 70 << 1 << 4 << 8 << true;
    QTest::newRow("3 tokens, dp4a, clamped") << 3 << 2 << 4 << 8 << true;
  }

  // The router (with the MLP norm), the experts and the residual of layer 0
  // against cpu::moe on the same normalised input.
  void experts_match_cpu_moe() {
    QFETCH(int, tokens);
    QFETCH(int, path);
    QFETCH(int, k);
    QFETCH(int, experts);
    QFETCH(bool, clamped);
    const Model& model = experts == 128 ? *model_128_experts_ : *model_;
    const cuda::CudaWeights& weights = experts == 128 ? *weights_128_experts_ : *weights_;
    ModelConfig c = model.config();
    QCOMPARE(c.num_experts, experts);
    c.experts_per_token = k;
    if (clamped) c.swiglu_limit = test::kTightSwigluLimit;
    const int H = c.hidden_size, I = c.intermediate_size, K = c.experts_per_token, E = c.num_experts;
    std::mt19937 rng(static_cast<unsigned>(tokens * 3 + path));
    const auto x = test::random_floats(static_cast<std::size_t>(tokens) * H, rng, -3.0f, 3.0f);
    const LayerWeights& L = model.weights().layers[0];
    std::vector<float> normed(x.size()), ref = x;
    cpu::rmsnorm(x.data(), L.mlp_norm, c.rms_norm_eps, tokens, H, normed.data());
    cpu::moe(ctx_, L, c, normed.data(), tokens, ref.data());

    const cuda::CudaLayer& G = weights.layers[0];
    const std::size_t assignments = static_cast<std::size_t>(tokens) * K;
    DeviceVector<float> dx(x), dnormed(x.size()), weight(assignments), act(assignments * I), expert_out(assignments * H);
    DeviceVector<std::int32_t> index(assignments);
    // dp4a: the router quantizes the normed rows, moe_down the SwiGLU outputs
    DeviceVector<std::int8_t> normed_codes(x.size()), act_codes(assignments * I);
    DeviceVector<float> normed_scales(x.size() / 32), act_scales(assignments * I / 32);
    const int max_tiles = cuda::expert_group_max_tiles(static_cast<int>(assignments), E);
    DeviceVector<std::int32_t> group_ints(assignments + 3 * static_cast<std::size_t>(max_tiles) + 1);
    const cuda::ExpertGroups groups{group_ints.get(), group_ints.get() + assignments, group_ints.get() + assignments + max_tiles,
                                    group_ints.get() + assignments + 2 * max_tiles,
                                    group_ints.get() + assignments + 3 * max_tiles};
    const cuda::Q8Rows q8 = path == 2 ? cuda::Q8Rows{normed_codes.get(), normed_scales.get()} : cuda::Q8Rows{};
    const cuda::Q8Rows act_q8 = path == 2 ? cuda::Q8Rows{act_codes.get(), act_scales.get()} : cuda::Q8Rows{};
    const float eps = static_cast<float>(c.rms_norm_eps), limit = static_cast<float>(c.swiglu_limit);
    // Up to kRouterSplitTokens tokens: the logits split over column slices (5 of 32 here), summed by the last block.
    DeviceVector<float> router_partial(static_cast<std::size_t>(cuda::kRouterSplitTokens) * cuda::kMaxRouterSplits * E);
    DeviceVector<std::uint32_t> router_arrivals(std::vector<std::uint32_t>(cuda::kRouterSplitTokens, 0));
    cuda::router_topk(G.router, G.router_bias, dx.get(), G.mlp_norm, eps, dnormed.get(), q8, tokens, K, index.get(),
                      weight.get(), cuda::RouterSplits{router_partial.get(), router_arrivals.get()}, nullptr);
    if (path == 1 || path == 3) {
      const cuda::TensorPrecision precision = path == 3 ? cuda::TensorPrecision::Single : cuda::TensorPrecision::Split;
      QVERIFY(cuda::moe_groupable(G.gate, G.down, E));
      cuda::group_by_expert(index.get(), static_cast<int>(assignments), E, groups, nullptr);
      DeviceVector<std::uint16_t> rows(x.size() * 2), act_rows(assignments * I * 2);
      cuda::tensor_rows(dnormed.get(), H, nullptr, eps, tokens, H, cuda::TensorOperand::BF16, precision, rows.get(), nullptr);
      cuda::moe_gate_up_grouped(G.gate, G.up, G.gate_bias, G.up_bias, rows.get(), tokens, K, E, groups, limit, act_rows.get(),
                                precision, nullptr);
      cuda::moe_down_grouped(G.down, G.down_bias, act_rows.get(), weight.get(), tokens, K, E, groups, expert_out.get(), dx.get(),
                             precision, nullptr);
    } else {
      cuda::moe_gate_up(G.gate, G.up, G.gate_bias, G.up_bias, dnormed.get(), q8, index.get(), tokens, K, limit, act.get(),
                        nullptr);
      cuda::moe_down(G.down, G.down_bias, act.get(), act_q8, index.get(), weight.get(), tokens, K, dx.get(), nullptr);
    }
    QVERIFY(kernels_ran());
    QCOMPARE(router_arrivals.download(), std::vector<std::uint32_t>(cuda::kRouterSplitTokens, 0));
    const test::ExpertsError e = test::experts_error(dx.download(), ref, x);
    qInfo("max |diff| = %g (largest contribution %g)", e.diff, e.contribution);
    QVERIFY(e.contribution > 0.1f);
    const float tolerance[] = {1e-5f, 1e-4f, 0.03f, 0.01f};  // by path
    QVERIFY(e.diff < tolerance[path] * e.contribution);
  }

  void router_picks_as_cpu_moe_data() {
    QTest::addColumn<int>("tokens");   // up to 16: the logits split over blocks; more: a block per token
    QTest::addColumn<int>("experts");  // the router's first rows of the 128-expert model
    QTest::addColumn<int>("k");
    QTest::newRow("3 tokens, 8 experts, top 4") << 3 << 8 << 4;
    QTest::newRow("3 tokens, 128 experts, top 4") << 3 << 128 << 4;
    QTest::newRow("20 tokens, 128 experts, top 8") << 20 << 128 << 8;
    QTest::newRow("20 tokens, 100 experts, top 4") << 20 << 100 << 4;
    QTest::newRow("3 tokens, 33 experts, top 8") << 3 << 33 << 8;
  }

  // The router's choice on exact ties, as cpu::moe makes it (torch.topk):
  // highest logit first, and of equal logits the lower expert. A zero
  // residual normalises to zero, so each logit is its bias exactly; the biases
  // take 4 values, so every token's top k are mostly ties. The weights are
  // the softmax over the k.
  void router_picks_as_cpu_moe() {
    QFETCH(int, tokens);
    QFETCH(int, experts);
    QFETCH(int, k);
    const cuda::CudaLayer& G = weights_128_experts_->layers[0];
    cuda::DenseMatrix router = G.router;
    QVERIFY(experts <= router.rows);
    router.rows = experts;
    const int H = router.cols;
    std::mt19937 rng(static_cast<unsigned>(tokens * 131 + experts * 7 + k));
    std::vector<float> bias(static_cast<std::size_t>(experts));
    for (float& b : bias) b = 0.5f * static_cast<float>(rng() % 4) - 0.75f;
    DeviceVector<float> dx(std::vector<float>(static_cast<std::size_t>(tokens) * H, 0.0f)), dbias(bias);
    DeviceVector<float> normed(static_cast<std::size_t>(tokens) * H), weight(static_cast<std::size_t>(tokens) * k);
    DeviceVector<std::int32_t> index(static_cast<std::size_t>(tokens) * k);
    DeviceVector<float> partial(static_cast<std::size_t>(cuda::kRouterSplitTokens) * cuda::kMaxRouterSplits * experts);
    DeviceVector<std::uint32_t> arrivals(std::vector<std::uint32_t>(cuda::kRouterSplitTokens, 0));
    cuda::router_topk(router, dbias.get(), dx.get(), G.mlp_norm, 1e-5f, normed.get(), cuda::Q8Rows{}, tokens, k, index.get(),
                      weight.get(), cuda::RouterSplits{partial.get(), arrivals.get()}, nullptr);
    QVERIFY(kernels_ran());

    const test::ExpertChoice want = test::choose_experts(bias.data(), experts, k);
    const auto got = index.download();
    const auto got_weight = weight.download();
    int tied = 0;
    for (int i = 1; i < k; ++i) tied += bias[want.index[i]] == bias[want.index[i - 1]];
    QVERIFY(tied > 0);
    for (int t = 0; t < tokens; ++t)
      for (int i = 0; i < k; ++i) {
        const std::size_t at = static_cast<std::size_t>(t) * k + i;
        QCOMPARE(got[at], want.index[i]);
        QVERIFY(std::fabs(got_weight[at] - want.weight[i]) < 1e-6f);
      }
    qInfo("%d tokens: experts and weights as cpu::moe, %d ties among the %d chosen", tokens, tied, k);
  }
};

int main(int argc, char** argv) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::printf("SKIP: no CUDA device\n");
    return 77;
  }
  TestCudaOps t;
  return QTest::qExec(&t, argc, argv);
}

#include "test_cuda_ops.moc"

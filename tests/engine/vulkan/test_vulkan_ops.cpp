// The Vulkan backend's host side (device enumeration, buffers, staging copies,
// pipelines) and every shader against the CPU backend's op on random inputs,
// with sizes that are not multiples of the workgroup size, through both the
// shared-memory and the subgroup reduction. Runs on lavapipe in CI (software
// devices are requested explicitly); exits 77 (skipped) when the machine has
// no Vulkan device at all.
#include <QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <tuple>

#include "backends/backend.h"
#include "backends/cpu/kernels.h"
#include "backends/cpu/ops.h"
#include "backends/vulkan/vk_device.h"
#include "backends/vulkan/vk_memory.h"
#include "backends/vulkan/vk_pipeline.h"
#include "backends/vulkan/vk_push_constants.h"
#include "backends/vulkan/vk_runner.h"
#include "backends/vulkan/vk_shaders.h"
#include "backends/vulkan/vk_weights.h"
#include "vulkan_test_support.h"
#include "model/model.h"
#include "model/synth.h"
#include "ossdesk/error.h"
#include "util/half.h"
#include "util/thread_pool.h"

using namespace ossdesk;
using vk_test::random_floats;

namespace {

// Max over outputs of |gpu - cpu| / bound, where bound = tol * sum_c |w_c x_c| + tol:
// a float32 dot product differs from another summation order by at most a small
// multiple of eps times the sum of magnitudes.
struct Comparison {
  float max_abs = 0;
  float worst_ratio = 0;  // <= 1 passes
};

}  // namespace

class TestVulkanOps : public vk_test::VulkanOpTest {
  Q_OBJECT

 private:

  // Runs matvec.comp (weights already in its GPU layout `format`, rows
  // `push_stride` words apart) and compares with cpu::matmul on the same view
  // (with_norm: of cpu::rmsnorm's output, the shader normalising x itself).
  // Q8 (vk::kDenseQ8) takes its per-32 scales in `scales`.
  Comparison run_matvec(std::uint32_t format, const MatrixView& w, const std::vector<std::uint8_t>& bytes, bool with_bias,
                        bool with_norm, int tokens, std::uint32_t rows_per_group, bool subgroup, std::uint32_t push_stride,
                        std::mt19937& rng, const std::vector<float>& scales = {}) {
    const auto x = random_floats(static_cast<std::size_t>(w.cols) * tokens, rng);
    const auto bias = random_floats(static_cast<std::size_t>(w.rows), rng, -4.0f, 4.0f);
    const auto norm = random_floats(static_cast<std::size_t>(w.cols), rng, 0.5f, 1.5f);
    const VectorView bias_view = test::float_view(bias);
    const float eps = 1e-5f;
    std::vector<float> input = x;  // what the product multiplies
    if (with_norm) cpu::rmsnorm(x.data(), test::float_view(norm), eps, tokens, w.cols, input.data());

    std::vector<float> ref(static_cast<std::size_t>(w.rows) * tokens);
    const cpu::OpContext ctx{pool_, cpu::cpu_kernels()};
    cpu::matmul(ctx, w, with_bias ? &bias_view : nullptr, input.data(), tokens, ref.data());

    // Per-output bound from the dequantized rows.
    const std::vector<float> bound = test::product_magnitudes(w, input.data(), tokens, with_bias ? bias.data() : nullptr);

    // Several tokens go through the batched variant (8 tokens per workgroup), as in prefill.
    const std::uint32_t tokens_per_group = tokens > 1 ? 8 : 1;
    auto p = pipeline("matvec", 9, sizeof(vk::MatvecPush), {device_->workgroup_size(128), rows_per_group, format, tokens_per_group},
                      subgroup);
    if (!p) return {-1, -1};
    vk::Buffer wb = device_buffer(bytes.data(), bytes.size());
    vk::Buffer sb = scales.empty() ? vk::Buffer(*device_, 4, vk::MemoryKind::DeviceLocal)  // scales: Q8 only
                                   : device_buffer(scales.data(), scales.size() * 4);
    vk::Buffer xb = device_buffer(x.data(), x.size() * 4);
    vk::Buffer bb = device_buffer(bias.data(), bias.size() * 4);
    vk::Buffer yb(*device_, ref.size() * 4, vk::MemoryKind::DeviceLocal);
    vk::Buffer nb = device_buffer(norm.data(), norm.size() * 4);
    const vk::MatvecPush push{static_cast<std::uint32_t>(w.rows),
                          static_cast<std::uint32_t>(w.cols),
                          push_stride,
                          0,
                          static_cast<std::uint32_t>(w.rows),
                          0,
                          static_cast<std::uint32_t>(tokens),
                          (with_bias ? 1u : 0u) | (with_norm ? 4u : 0u),
                          eps,
                          0,
                          1.0f,
                          0};
    vk::Buffer unused(*device_, 4, vk::MemoryKind::DeviceLocal);  // the RoPE epilogue's bindings
    runner_->dispatch(*p, {&wb, &sb, &xb, &bb, &yb, &nb, &unused, &unused, &unused}, &push, sizeof push,
                      vk::flat_groups(*device_, vk::div_up(static_cast<std::uint64_t>(w.rows), rows_per_group),
                                      vk::div_up(static_cast<std::uint64_t>(tokens), tokens_per_group)));
    std::vector<float> got(ref.size());
    runner_->download(yb, got.data(), got.size() * 4);

    Comparison c;
    for (std::size_t i = 0; i < ref.size(); ++i) {
      const float err = std::abs(got[i] - ref[i]);
      c.max_abs = std::max(c.max_abs, err);
      c.worst_ratio = std::max(c.worst_ratio, err / (2e-6f * bound[i] + 1e-6f));
      if (!(err <= 2e-6f * bound[i] + 1e-6f) && c.worst_ratio > 1) {
        qWarning("output %zu: gpu %g cpu %g bound %g", i, static_cast<double>(got[i]), static_cast<double>(ref[i]),
                 static_cast<double>(bound[i]));
        break;
      }
    }
    return c;
  }

 private slots:
  void initTestCase() {
    ::setenv("OSSDESK_VULKAN_INTEGER_DOT", "1", 1);  // opt-in feature: enabled so its shaders are tested
    const vk::PhysicalDevice pd = open_device();
    qInfo("device: %s (%s; %s), %llu MiB, max storage buffer %llu MiB, subgroup arithmetic %s", pd.info.name.c_str(),
          pd.info.type.c_str(), pd.info.driver.c_str(), static_cast<unsigned long long>(pd.info.memory_bytes >> 20),
          static_cast<unsigned long long>(vk::max_storage_buffer_bytes(*device_) >> 20),
          pd.subgroup_arithmetic ? "yes" : "no");
  }

  void lists_devices() {
    std::string why;
    const auto all = list_devices("vulkan", true, &why);
    QVERIFY2(!all.empty(), why.c_str());
    for (std::size_t i = 0; i < all.size(); ++i) {
      QCOMPARE(all[i].backend, std::string("vulkan"));
      QCOMPARE(all[i].index, static_cast<int>(i));
      QVERIFY(!all[i].name.empty());
      QVERIFY(!all[i].driver.empty());
      QVERIFY(all[i].driver.find("subgroup") != std::string::npos);
    }
    // Software devices are only offered on request, and never ahead of a GPU.
    std::string why_gpu;
    const auto gpus = list_devices("vulkan", false, &why_gpu);
    for (const auto& d : gpus) QVERIFY(d.type != "software");
    if (gpus.empty()) QVERIFY(!why_gpu.empty());
    bool seen_software = false;
    for (const auto& d : all) {
      if (d.type == "software") seen_software = true;
      else QVERIFY2(!seen_software, "a GPU is listed after a software device");
    }
    // The backend is offered ahead of the CPU.
    const auto names = available_backends();
    QVERIFY(std::find(names.begin(), names.end(), "vulkan") < std::find(names.begin(), names.end(), "cpu"));
  }

  void selects_devices() {
    BackendOptions o;
    o.allow_software_devices = true;
    o.device_index = 99;
    QVERIFY_THROWS_EXCEPTION(Error, vk::select_device(*instance_, o));
    o.device_index = -1;
    o.device_name = "no such device, surely";
    QVERIFY_THROWS_EXCEPTION(Error, vk::select_device(*instance_, o));
    o.device_name = device_->physical().info.name.substr(0, 4);
    QVERIFY(vk::select_device(*instance_, o).info.name.find(o.device_name) != std::string::npos);
  }

  // "auto" takes a Vulkan GPU when there is one and never a software device
  // unless asked; lavapipe alone means the CPU backend, with the reason.
  void auto_prefers_a_gpu_and_never_lavapipe() {
    auto model = Model::open(std::string(OSSDESK_TEST_DATA_DIR) + "/golden/tiny-a");
    BackendOptions o;
    o.context_length = 64;
    std::string why;
    const bool gpu = !list_devices("vulkan", false, &why).empty();
    BackendChoice choice;
    auto b = create_backend("auto", *model, o, {}, &choice);
    QCOMPARE(choice.name, std::string(gpu ? "vulkan" : "cpu"));
    QCOMPARE(b->device().backend, choice.name);
    if (!gpu) QVERIFY(choice.reason.find("no Vulkan GPU") != std::string::npos);
  }

  // A model the GPU backends cannot run (top-9 routing; their router kernels
  // take at most top-8) still loads with "auto": each GPU backend that has a
  // device (lavapipe counts here) refuses it and hands on, and the CPU runs it
  // saying why. A backend asked for by name fails instead.
  void auto_hands_a_model_the_gpus_refuse_on_to_the_cpu() {
    QTemporaryDir dir;
    SynthOptions synth;
    synth.config = config_preset("tiny");
    synth.config.num_experts = 10;
    synth.config.experts_per_token = 9;
    synth.out = dir.filePath("top9").toStdString();
    synth_model(synth);
    auto model = Model::open(synth.out);
    BackendOptions o;
    o.context_length = 64;
    o.allow_software_devices = true;
    std::string why;
    if (list_devices("vulkan", true, &why).empty()) QSKIP("no Vulkan device at all");
    BackendChoice choice;
    auto b = create_backend("auto", *model, o, {}, &choice);
    QCOMPARE(choice.name, std::string("cpu"));
    QCOMPARE(b->device().backend, std::string("cpu"));
    QVERIFY2(choice.reason.find("vulkan could not load the model: vulkan: the router kernel handles at most 128 experts "
                                "and top-8") != std::string::npos,
             choice.reason.c_str());
    // What the GPUs could not do, on its own (the app shows it under the model bar).
    QVERIFY2(choice.fallback.find("vulkan could not load the model: vulkan: the router kernel") != std::string::npos,
             choice.fallback.c_str());
    QVERIFY2(choice.fallback.find("no CUDA GPU") == std::string::npos, choice.fallback.c_str());
    qInfo("auto: cpu (%s)", choice.reason.c_str());
    QVERIFY_THROWS_EXCEPTION(Error, create_backend("vulkan", *model, o, {}));
    // A model the GPU takes leaves nothing to report.
    auto tiny = Model::open(std::string(OSSDESK_TEST_DATA_DIR) + "/golden/tiny-a");
    auto on_gpu = create_backend("auto", *tiny, o, {}, &choice);
    QCOMPARE(choice.name, std::string("vulkan"));
    QCOMPARE(choice.fallback, std::string());
  }

  void shaders_embedded() {
    for (const char* name : {"rmsnorm", "matvec", "embed", "rope", "moe_gate_up", "moe_down", "argmax"}) {
      for (const std::string& key : {std::string(name), std::string(name) + "_subgroup"}) {
        const auto words = vk::find_spirv(key);
        QVERIFY2(words.size() > 5, key.c_str());
        QCOMPARE(words[0], 0x07230203u);  // SPIR-V magic
      }
    }
    QVERIFY(vk::find_spirv("no_such_shader").empty());
  }

  void buffers_round_trip_and_limits() {
    std::mt19937 rng(7);
    // Odd size, several staging chunks not needed: checks offsets and partial words.
    std::vector<std::uint8_t> data((1 << 20) + 3);
    for (auto& b : data) b = static_cast<std::uint8_t>(rng());
    vk::Buffer b(*device_, data.size() + 100, vk::MemoryKind::DeviceLocal);
    runner_->upload(b, data.data(), data.size(), 100);
    std::vector<std::uint8_t> back(data.size());
    runner_->download(b, back.data(), back.size(), 100);
    QVERIFY(back == data);
    QVERIFY_THROWS_EXCEPTION(Error, runner_->upload(b, data.data(), data.size(), b.size() - data.size() + 1));
    // Over the storage-buffer limit: a clear OutOfMemory error, not a driver failure.
    try {
      vk::Buffer too_big(*device_, vk::max_storage_buffer_bytes(*device_) + 256, vk::MemoryKind::DeviceLocal);
      QFAIL("a buffer over maxStorageBufferRange was created");
    } catch (const Error& e) {
      QCOMPARE(e.kind(), ErrorKind::OutOfMemory);
      QVERIFY(std::string(e.what()).find("maxStorageBufferRange") != std::string::npos);
    }
  }

  void rmsnorm_data() {
    QTest::addColumn<int>("dim");
    QTest::addColumn<int>("rows");
    QTest::addColumn<bool>("subgroup");
    for (bool sg : {false, true}) {
      const char* v = sg ? "subgroup" : "shared";
      for (auto [dim, rows] : std::vector<std::pair<int, int>>{{1, 1}, {7, 3}, {64, 2}, {255, 5}, {2880, 4}, {3001, 1}})
        QTest::addRow("%s dim=%d rows=%d", v, dim, rows) << dim << rows << sg;
    }
  }

  void rmsnorm() {
    QFETCH(int, dim);
    QFETCH(int, rows);
    QFETCH(bool, subgroup);
    std::mt19937 rng(static_cast<unsigned>(dim * 31 + rows));
    const auto x = random_floats(static_cast<std::size_t>(dim) * rows, rng, -3.0f, 3.0f);
    // The model stores norm scales in BF16; the GPU gets them as float32.
    std::vector<std::uint16_t> scale_bf16(static_cast<std::size_t>(dim));
    std::vector<float> scale(static_cast<std::size_t>(dim));
    for (int i = 0; i < dim; ++i) {
      scale_bf16[static_cast<std::size_t>(i)] = f32_to_bf16(random_floats(1, rng, 0.2f, 2.0f)[0]);
      scale[static_cast<std::size_t>(i)] = bf16_to_f32(scale_bf16[static_cast<std::size_t>(i)]);
    }
    VectorView sv;
    sv.format = WeightFormat::BF16;
    sv.n = dim;
    sv.data = reinterpret_cast<const std::uint8_t*>(scale_bf16.data());
    sv.stride = 2;
    const double eps = 1e-5;
    std::vector<float> ref(x.size());
    cpu::rmsnorm(x.data(), sv, eps, rows, dim, ref.data());

    auto p = pipeline("rmsnorm", 3, sizeof(vk::RmsNormPush), {device_->workgroup_size(256)}, subgroup);
    if (!p) QSKIP("the device has no subgroup arithmetic");
    vk::Buffer xb = device_buffer(x.data(), x.size() * 4);
    vk::Buffer sb = device_buffer(scale.data(), scale.size() * 4);
    vk::Buffer ob(*device_, x.size() * 4, vk::MemoryKind::DeviceLocal);
    const vk::RmsNormPush push{static_cast<std::uint32_t>(dim), static_cast<std::uint32_t>(rows), static_cast<float>(eps)};
    runner_->dispatch(*p, {&xb, &sb, &ob}, &push, sizeof push, vk::flat_groups(*device_, static_cast<std::uint64_t>(rows)));
    std::vector<float> got(x.size());
    runner_->download(ob, got.data(), got.size() * 4);
    float max_err = 0, max_rel = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
      const float err = std::abs(got[i] - ref[i]);
      max_err = test::worst_of(max_err, err);
      max_rel = test::worst_of(max_rel, err / std::max(std::abs(ref[i]), 1e-3f));
    }
    qInfo("rmsnorm %s dim %d rows %d: max abs err %.3g, max rel err %.3g", p->module_name().c_str(), dim, rows,
          static_cast<double>(max_err), static_cast<double>(max_rel));
    QVERIFY2(max_rel < 2e-6f, qPrintable(QString("max relative error %1").arg(static_cast<double>(max_rel))));
  }

  void matvec_bf16_data() {
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("cols");
    QTest::addColumn<int>("pad");  // extra elements per row (stride > cols); keeps the stride even
    QTest::addColumn<int>("tokens");
    QTest::addColumn<int>("rows_per_group");
    QTest::addColumn<bool>("bias");
    QTest::addColumn<bool>("norm");  // the RMSNorm of x taken inside the product
    QTest::addColumn<bool>("subgroup");
    struct Shape {
      int rows, cols, pad, tokens, rpg;
      bool bias, norm = false;
    };
    const std::vector<Shape> shapes = {{1, 2, 0, 1, 1, false},        {5, 17, 1, 1, 1, true},     {37, 130, 0, 1, 2, true},
                                       {64, 2880, 0, 1, 4, true},     {201, 1001, 3, 3, 2, true}, {70000, 6, 0, 1, 1, true},
                                       {33, 96, 0, 8, 2, true},       {19, 64, 2, 13, 2, false},  {64, 2880, 0, 1, 4, true, true},
                                       {201, 1001, 3, 3, 2, true, true}, {19, 64, 2, 13, 2, false, true}, {5, 17, 1, 1, 1, true, true}};
    for (bool sg : {false, true})
      for (const Shape& s : shapes)
        QTest::addRow("%s %dx%d pad %d tokens %d rows/group %d%s", sg ? "subgroup" : "shared", s.rows, s.cols, s.pad,
                      s.tokens, s.rpg, s.norm ? " normed" : "")
            << s.rows << s.cols << s.pad << s.tokens << s.rpg << s.bias << s.norm << sg;
  }

  void matvec_bf16() {
    QFETCH(int, rows);
    QFETCH(int, cols);
    QFETCH(int, pad);
    QFETCH(int, tokens);
    QFETCH(int, rows_per_group);
    QFETCH(bool, bias);
    QFETCH(bool, norm);
    QFETCH(bool, subgroup);
    std::mt19937 rng(static_cast<unsigned>(rows * 7 + cols));
    const int stride = cols + pad;
    QVERIFY(stride % 2 == 0);
    std::vector<std::uint16_t> w(static_cast<std::size_t>(rows) * stride);
    for (auto& v : w) v = f32_to_bf16(random_floats(1, rng, -2.0f, 2.0f)[0]);
    MatrixView view;
    view.format = WeightFormat::BF16;
    view.rows = rows;
    view.cols = cols;
    view.data = reinterpret_cast<const std::uint8_t*>(w.data());
    view.row_stride = static_cast<std::uint64_t>(stride) * 2;
    std::vector<std::uint8_t> bytes(w.size() * 2);
    std::memcpy(bytes.data(), w.data(), bytes.size());
    const Comparison c = run_matvec(vk::kDenseBF16, view, bytes, bias, norm, tokens, static_cast<std::uint32_t>(rows_per_group), subgroup,
                                    static_cast<std::uint32_t>(stride / 2), rng);
    if (c.max_abs < 0) QSKIP("the device has no subgroup arithmetic");
    qInfo("matvec_bf16 %s %dx%d tokens %d: max abs err %.3g (%.2f of the bound)", subgroup ? "subgroup" : "shared", rows,
          cols, tokens, static_cast<double>(c.max_abs), static_cast<double>(c.worst_ratio));
    QVERIFY(c.worst_ratio <= 1.0f);
  }

  // Q8 weights through the float products of matvec.comp (decode, and prefill
  // without integer dot products): the codes as the backend uploads them
  // (int8 rows, one float scale per 32 values apart) against cpu::matmul on
  // the GGUF blocks (f16 scale, 32 int8) they came from.
  void matvec_q8_data() {
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("cols");
    QTest::addColumn<int>("tokens");
    QTest::addColumn<bool>("norm");
    QTest::addColumn<bool>("subgroup");
    for (bool sg : {false, true})
      for (auto [rows, cols, tokens, norm] : std::vector<std::tuple<int, int, int, bool>>{
               {1, 32, 1, false}, {67, 2880, 1, true}, {130, 256, 9, false}, {5, 96, 3, true}})
        QTest::addRow("%s %dx%d tokens %d%s", sg ? "subgroup" : "shared", rows, cols, tokens, norm ? " normed" : "")
            << rows << cols << tokens << norm << sg;
  }

  void matvec_q8() {
    QFETCH(int, rows);
    QFETCH(int, cols);
    QFETCH(int, tokens);
    QFETCH(bool, norm);
    QFETCH(bool, subgroup);
    std::mt19937 rng(static_cast<unsigned>(rows * 11 + cols + tokens));
    const std::size_t R = static_cast<std::size_t>(rows), C = static_cast<std::size_t>(cols), blocks = C / 32;
    std::vector<std::uint8_t> gguf(R * blocks * 34), codes(R * C);
    std::vector<float> scales(R * blocks);
    std::uniform_int_distribution<int> code(-128, 127);  // every int8, -128 included
    for (std::size_t b = 0; b < R * blocks; ++b) {
      const std::uint16_t d = f32_to_f16(random_floats(1, rng, 0.001f, 0.05f)[0]);
      scales[b] = f16_to_f32(d);
      std::memcpy(&gguf[b * 34], &d, 2);
      for (std::size_t i = 0; i < 32; ++i) {
        const auto v = static_cast<std::uint8_t>(static_cast<std::int8_t>(code(rng)));
        gguf[b * 34 + 2 + i] = v;
        codes[b * 32 + i] = v;
      }
    }
    MatrixView view;
    view.format = WeightFormat::Q8_0;
    view.rows = rows;
    view.cols = cols;
    view.data = gguf.data();
    view.row_stride = blocks * 34;
    const Comparison c = run_matvec(vk::kDenseQ8, view, codes, true, norm, tokens, 2, subgroup, static_cast<std::uint32_t>(C / 4), rng, scales);
    if (c.max_abs < 0) QSKIP("the device has no subgroup arithmetic");
    qInfo("matvec_q8 %s %dx%d tokens %d: max abs err %.3g (%.2f of the bound)", subgroup ? "subgroup" : "shared", rows, cols,
          tokens, static_cast<double>(c.max_abs), static_cast<double>(c.worst_ratio));
    QVERIFY(c.worst_ratio <= 1.0f);
  }

  // Prefill's integer-dot path for Q8 weights: quantize_q8 turns each block of
  // 32 activations into int8 codes and a scale, matvec_q8_dot sums packed
  // 4 x int8 products per block times both scales. Checked two ways: the codes
  // are those of the documented rounding (off by one at most, where a fused
  // multiply-add rounds a half the other way), the products are exact sums of
  // the device's own codes, and the whole stays within the quantization error
  // of the float product.
  void matvec_q8_int8_dot_data() {
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("cols");
    QTest::addColumn<int>("tokens");
    QTest::addColumn<bool>("subgroup");
    for (bool sg : {false, true})
      for (auto [rows, cols, tokens] : std::vector<std::tuple<int, int, int>>{{1, 32, 2}, {67, 2880, 9}, {130, 4096, 3},
                                                                                {5, 96, 17}})
        QTest::addRow("%s %dx%d tokens %d", sg ? "subgroup" : "shared", rows, cols, tokens) << rows << cols << tokens << sg;
  }

  void matvec_q8_int8_dot() {
    QFETCH(int, rows);
    QFETCH(int, cols);
    QFETCH(int, tokens);
    QFETCH(bool, subgroup);
    if (!device_->physical().integer_dot) QSKIP("the device has no integer dot products");
    std::mt19937 rng(static_cast<unsigned>(rows * 13 + cols + tokens));
    const std::size_t R = static_cast<std::size_t>(rows), C = static_cast<std::size_t>(cols), T = static_cast<std::size_t>(tokens);
    const std::size_t blocks = C / 32;
    std::vector<std::int8_t> codes(R * C);
    std::uniform_int_distribution<int> code(-127, 127);
    for (auto& v : codes) v = static_cast<std::int8_t>(code(rng));
    const auto wscale = random_floats(R * blocks, rng, 0.001f, 0.02f);
    const auto x = random_floats(T * C, rng, -3.0f, 3.0f);
    const auto bias = random_floats(R, rng, -1.0f, 1.0f);

    const std::uint32_t wg = device_->workgroup_size(64);
    auto quant = pipeline("quantize_q8", 3, 8, {wg}, false);
    auto dot = pipeline("matvec_q8_dot", 6, 7 * 4, {wg, 2, 8}, subgroup);
    QVERIFY(quant);
    if (!dot) QSKIP("the device has no subgroup arithmetic");
    vk::Buffer wb = device_buffer(codes.data(), codes.size());
    vk::Buffer sb = device_buffer(wscale.data(), wscale.size() * 4);
    vk::Buffer xb = device_buffer(x.data(), x.size() * 4);
    vk::Buffer bb = device_buffer(bias.data(), bias.size() * 4);
    vk::Buffer qb(*device_, T * C, vk::MemoryKind::DeviceLocal);
    vk::Buffer qsb(*device_, T * blocks * 4, vk::MemoryKind::DeviceLocal);
    vk::Buffer yb(*device_, T * R * 4, vk::MemoryKind::DeviceLocal);
    const std::uint32_t nblocks = static_cast<std::uint32_t>(T * blocks);
    const std::uint32_t qpush[2] = {nblocks, 0};
    runner_->dispatch(*quant, {&xb, &qb, &qsb}, qpush, sizeof qpush, vk::flat_groups(*device_, vk::div_up(nblocks, wg)));
    const std::uint32_t push[7] = {static_cast<std::uint32_t>(rows), static_cast<std::uint32_t>(cols),
                                   static_cast<std::uint32_t>(cols / 4), 0, static_cast<std::uint32_t>(rows),
                                   static_cast<std::uint32_t>(tokens), 1u};
    runner_->dispatch(*dot, {&wb, &sb, &qb, &qsb, &bb, &yb}, push, sizeof push,
                      vk::flat_groups(*device_, (R + 1) / 2, static_cast<std::uint32_t>((T + 7) / 8)));
    std::vector<std::int8_t> xq(T * C);
    std::vector<float> xs(T * blocks), got(T * R);
    runner_->download(qb, xq.data(), xq.size());
    runner_->download(qsb, xs.data(), xs.size() * 4);
    runner_->download(yb, got.data(), got.size() * 4);

    for (std::size_t b = 0; b < T * blocks; ++b) {
      float amax = 0;
      for (std::size_t i = 0; i < 32; ++i) amax = std::max(amax, std::abs(x[b * 32 + i]));
      QCOMPARE(xs[b], amax / 127.0f);
      const float inv = amax > 0 ? 127.0f / amax : 0.0f;
      for (std::size_t i = 0; i < 32; ++i) {
        const int want = std::clamp(static_cast<int>(std::floor(x[b * 32 + i] * inv + 0.5f)), -127, 127);
        QVERIFY2(std::abs(xq[b * 32 + i] - want) <= 1, qPrintable(QString("code %1: %2 vs %3").arg(b * 32 + i).arg(xq[b * 32 + i]).arg(want)));
      }
    }
    float worst_exact = 0, worst_quant = 0;
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t r = 0; r < R; ++r) {
        double exact = bias[r], exact_float = bias[r], bound = std::abs(bias[r]);
        for (std::size_t b = 0; b < blocks; ++b) {
          std::int64_t s = 0;
          for (std::size_t i = 0; i < 32; ++i) {
            s += static_cast<std::int64_t>(codes[r * C + b * 32 + i]) * xq[t * C + b * 32 + i];
            const double wv = static_cast<double>(codes[r * C + b * 32 + i]) * wscale[r * blocks + b];
            exact_float += wv * x[t * C + b * 32 + i];
            bound += std::abs(wv * x[t * C + b * 32 + i]);
          }
          exact += static_cast<double>(s) * wscale[r * blocks + b] * xs[t * blocks + b];
        }
        const float g = got[t * R + r];
        worst_exact = test::worst_of(worst_exact, static_cast<float>(std::abs(g - exact) / (bound + 1e-6)));
        worst_quant = test::worst_of(worst_quant, static_cast<float>(std::abs(g - exact_float) / (bound + 1e-6)));
      }
    qInfo("%s: error vs the exact integer sums %.3g, vs the float product %.3g (of sum |w x|)",
          dot->module_name().c_str(), static_cast<double>(worst_exact), static_cast<double>(worst_quant));
    QVERIFY(worst_exact < 2e-6f);
    QVERIFY(worst_quant < 1e-2f);  // half a code step of 1/127 per activation at most
  }

  void cleanupTestCase() {
    runner_.reset();
    device_.reset();
    instance_.reset();
  }
};

int main(int argc, char** argv) {
  TestVulkanOps t;
  return vk_test::run_vulkan_test(t, argc, argv);
}

#include "test_vulkan_ops.moc"

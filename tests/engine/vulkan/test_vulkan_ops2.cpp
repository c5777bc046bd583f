// The Vulkan backend's attention-side and MoE-side shaders against the CPU
// backend's ops on random inputs: YaRN RoPE (cpu::YarnRope) with the KV-cache append (and the same
// work in decode's q/k/v products, against the products then rope.comp), single-token
// and tiled prefill attention with sinks, GQA and windows (cpu::attention on a real
// cpu::KvCache), the fused router (RMSNorm, W x + bias, top-k, softmax) and the clamped SwiGLU (both as
// cpu::moe computes them: they are private to moe.cpp, so the test spells the
// same loop out). Sizes are not multiples of the workgroup size. Runs on
// lavapipe in CI (software devices are requested explicitly); exits 77
// (skipped) when the machine has no Vulkan device at all.
#include <QtTest>

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <numeric>
#include <random>

#include "backends/backend.h"
#include "backends/cpu/kernels.h"
#include "backends/cpu/kv_cache.h"
#include "backends/cpu/ops.h"
#include "backends/cpu/rope.h"
#include "backends/vulkan/vk_device.h"
#include "backends/vulkan/vk_memory.h"
#include "backends/vulkan/vk_pipeline.h"
#include "backends/vulkan/vk_push_constants.h"
#include "backends/vulkan/vk_runner.h"
#include "backends/vulkan/vk_shaders.h"
#include "backends/vulkan/vk_weights.h"
#include "op_checks.h"
#include "vulkan_test_support.h"
#include "model/config.h"
#include "ossdesk/error.h"
#include "util/half.h"
#include "util/thread_pool.h"

using namespace ossdesk;
using vk_test::random_floats;

namespace {

// The step buffer the forward pass keeps on the device: [0] = position of token 0.
std::vector<std::uint32_t> step_words(int position, int tokens) {
  std::vector<std::uint32_t> s(4 + static_cast<std::size_t>(tokens), 0);
  s[0] = static_cast<std::uint32_t>(position);
  return s;
}

float round_to_f16(float v) { return f16_to_f32(f32_to_f16(v)); }

// The FORMAT codes of shaders/common/dense.glsl these tests build rows in
// (the engine's names for them, vk_weights.h).
constexpr int F32 = vk::kDenseF32, BF16 = vk::kDenseBF16, Q8 = vk::kDenseQ8;
const char* format_name(int format) { return format == BF16 ? "bf16" : format == Q8 ? "q8" : "f32"; }

// A dense matrix in a GPU layout of shaders/common/dense.glsl: F32, BF16
// (cols even), Q8 (cols a multiple of 32: int8 codes four to a word, element
// 0 in the low byte, and a float scale per 32 values). The values are rounded
// in place to what the GPU reads.
struct DenseRows {
  std::vector<std::uint32_t> words;
  std::vector<float> scales;  // Q8 only
  std::uint32_t row_stride;   // words
};
DenseRows dense_rows(std::vector<float>& values, std::size_t cols, std::uint32_t format) {
  DenseRows d;
  if (format == BF16) {
    for (std::size_t i = 0; i < values.size(); i += 2) {
      const std::uint16_t lo = f32_to_bf16(values[i]), hi = f32_to_bf16(values[i + 1]);
      values[i] = bf16_to_f32(lo);
      values[i + 1] = bf16_to_f32(hi);
      d.words.push_back(static_cast<std::uint32_t>(lo) | (static_cast<std::uint32_t>(hi) << 16));
    }
    d.row_stride = static_cast<std::uint32_t>(cols / 2);
  } else if (format == Q8) {
    d.words.assign(values.size() / 4, 0);
    for (std::size_t b = 0; b < values.size() / 32; ++b) {
      float peak = 0;
      for (std::size_t i = 0; i < 32; ++i) peak = std::max(peak, std::abs(values[b * 32 + i]));
      const float scale = peak > 0 ? peak / 127.0f : 1.0f;
      d.scales.push_back(scale);
      for (std::size_t i = 0; i < 32; ++i) {
        const std::size_t e = b * 32 + i;
        const auto code = static_cast<std::int8_t>(std::lround(values[e] / scale));
        values[e] = static_cast<float>(code) * scale;
        d.words[e / 4] |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(code)) << (8 * (e % 4));
      }
    }
    d.row_stride = static_cast<std::uint32_t>(cols / 4);
  } else {
    d.words.resize(values.size());
    std::memcpy(d.words.data(), values.data(), values.size() * 4);
    d.row_stride = static_cast<std::uint32_t>(cols);
  }
  return d;
}

struct SwigluPush {
  std::uint32_t n;
  float limit;
};

// cpu::moe's activation (moe.cpp keeps it private).
float reference_swiglu(float glu, float lin, float limit) {
  glu = std::min(glu, limit);
  lin = std::clamp(lin, -limit, limit);
  return glu / (1.0f + std::exp(-1.702f * glu)) * (lin + 1.0f);
}

}  // namespace

class TestVulkanOps2 : public vk_test::VulkanOpTest {
  Q_OBJECT

 private slots:
  void initTestCase() {
    const vk::PhysicalDevice pd = open_device();
    qInfo("device: %s (%s; %s), subgroup arithmetic %s", pd.info.name.c_str(), pd.info.type.c_str(),
          pd.info.driver.c_str(), pd.subgroup_arithmetic ? "yes" : "no");
  }

  void shaders_embedded() {
    for (const char* name : {"rope", "attention", "attention_prefill", "router_topk", "swiglu"}) {
      for (const std::string& key : {std::string(name), std::string(name) + "_subgroup"}) {
        const auto words = vk::find_spirv(key);
        QVERIFY2(words.size() > 5, key.c_str());
        QCOMPARE(words[0], 0x07230203u);  // SPIR-V magic
      }
    }
  }

  void rope_data() {
    QTest::addColumn<int>("heads");
    QTest::addColumn<int>("kv_heads");
    QTest::addColumn<int>("head_dim");
    QTest::addColumn<int>("position");
    QTest::addColumn<int>("tokens");
    QTest::addColumn<bool>("yarn");
    struct Shape {
      int heads, kv, hd, pos, tokens;
      bool yarn;
    };
    const std::vector<Shape> shapes = {
        {64, 8, 64, 0, 1, true},      {64, 8, 64, 1, 1, true},       {64, 8, 64, 37, 3, true},
        {64, 8, 64, 4095, 2, true},   {64, 8, 64, 100003, 1, true},  {64, 8, 64, 131068, 4, true},
        {5, 1, 10, 777, 2, true},     {3, 3, 6, 65537, 1, false},    {7, 2, 64, 12345, 5, false},
    };
    for (const Shape& s : shapes)
      QTest::addRow("%s %dq/%dkv x %d pos %d tokens %d", s.yarn ? "yarn" : "plain", s.heads, s.kv, s.hd, s.pos,
                    s.tokens)
          << s.heads << s.kv << s.hd << s.pos << s.tokens << s.yarn;
  }

  void rope() {
    QFETCH(int, heads);
    QFETCH(int, kv_heads);
    QFETCH(int, head_dim);
    QFETCH(int, position);
    QFETCH(int, tokens);
    QFETCH(bool, yarn);
    ModelConfig c;
    c.num_heads = heads;
    c.num_kv_heads = kv_heads;
    c.head_dim = head_dim;
    if (!yarn) c.rope_scaling_factor = 1.0;
    const cpu::YarnRope rope(c);
    const int half = rope.half_dim();
    std::mt19937 rng(static_cast<unsigned>(position * 3 + heads));
    const std::size_t qn = static_cast<std::size_t>(tokens) * heads * head_dim;
    const std::size_t kn = static_cast<std::size_t>(tokens) * kv_heads * head_dim;
    const auto q = random_floats(qn, rng, -3.0f, 3.0f);
    const auto k = random_floats(kn, rng, -3.0f, 3.0f);
    std::vector<float> q_ref = q, k_ref = k;
    std::vector<float> cos_t(static_cast<std::size_t>(half)), sin_t(static_cast<std::size_t>(half));
    for (int t = 0; t < tokens; ++t) {
      rope.tables(position + t, cos_t.data(), sin_t.data());
      rope.apply(q_ref.data() + static_cast<std::size_t>(t) * heads * head_dim, heads, cos_t.data(), sin_t.data());
      rope.apply(k_ref.data() + static_cast<std::size_t>(t) * kv_heads * head_dim, kv_heads, cos_t.data(),
                 sin_t.data());
    }

    // The append's cache_slots: a ring of 128 (a sliding layer's) past position
    // 4096, else one per position; every other slot must stay untouched.
    const int ring = position > 4096 ? 128 : 0;
    const std::size_t cache_slots = ring ? static_cast<std::size_t>(ring) : static_cast<std::size_t>(position + tokens);
    const std::size_t kv_words = static_cast<std::size_t>(kv_heads) * half;  // a cache row: kv_dim / 2 words
    const auto v = random_floats(kn, rng, -3.0f, 3.0f);
    constexpr std::uint32_t kUntouched = 0xDEADBEEFu;
    const std::vector<std::uint32_t> empty_cache(cache_slots * kv_words, kUntouched);

    const std::uint32_t wg = device_->workgroup_size(64);
    auto p = pipeline("rope", 7, sizeof(vk::RopePush), {wg}, false);
    QVERIFY(p);
    vk::Buffer qb = device_buffer(q.data(), qn * 4);
    vk::Buffer kb = device_buffer(k.data(), kn * 4);
    vk::Buffer vb = device_buffer(v.data(), kn * 4);
    vk::Buffer kcb = device_buffer(empty_cache.data(), empty_cache.size() * 4);
    vk::Buffer vcb = device_buffer(empty_cache.data(), empty_cache.size() * 4);
    vk::Buffer fb = device_buffer(rope.inv_freq().data(), rope.inv_freq().size() * 4);
    const auto step = step_words(position, tokens);
    vk::Buffer stb = device_buffer(step.data(), step.size() * 4);
    const vk::RopePush push{static_cast<std::uint32_t>(heads), static_cast<std::uint32_t>(kv_heads),
                        static_cast<std::uint32_t>(half), rope.concentration(), static_cast<std::uint32_t>(ring)};
    const std::uint64_t pairs = static_cast<std::uint64_t>(heads + kv_heads) * half;
    runner_->dispatch(*p, {&qb, &kb, &fb, &stb, &vb, &kcb, &vcb}, &push, sizeof push,
                      vk::flat_groups(*device_, vk::div_up(pairs, wg), static_cast<std::uint32_t>(tokens)));
    std::vector<float> q_got(qn);
    runner_->download(qb, q_got.data(), qn * 4);
    std::vector<std::uint32_t> kc_got(empty_cache.size()), vc_got(empty_cache.size());
    runner_->download(kcb, kc_got.data(), kc_got.size() * 4);
    runner_->download(vcb, vc_got.data(), vc_got.size() * 4);

    // The cache rows as floats [tokens x kv_dim]: token t's row from its slot.
    std::vector<float> k_got(kn), v_got(kn);
    std::vector<bool> written(cache_slots, false);
    for (int t = 0; t < tokens; ++t) {
      const std::size_t pos = static_cast<std::size_t>(position + t);
      const std::size_t slot = ring ? pos % static_cast<std::size_t>(ring) : pos;
      written[slot] = true;
      for (std::size_t w = 0; w < kv_words; ++w) {
        const std::size_t at = static_cast<std::size_t>(t) * 2 * kv_words + 2 * w;
        for (int h = 0; h < 2; ++h) {
          k_got[at + static_cast<std::size_t>(h)] = f16_to_f32(static_cast<std::uint16_t>(kc_got[slot * kv_words + w] >> (16 * h)));
          v_got[at + static_cast<std::size_t>(h)] = f16_to_f32(static_cast<std::uint16_t>(vc_got[slot * kv_words + w] >> (16 * h)));
        }
      }
    }
    for (std::size_t slot = 0; slot < cache_slots; ++slot)
      for (std::size_t w = 0; w < kv_words && !written[slot]; ++w) {
        QCOMPARE(kc_got[slot * kv_words + w], kUntouched);
        QCOMPARE(vc_got[slot * kv_words + w], kUntouched);
      }
    // v is copied: exactly its f16 rounding.
    for (std::size_t e = 0; e < kn; ++e) QCOMPARE(v_got[e], f16_to_f32(f32_to_f16(v[e])));

    // Error relative to the rotated pair's magnitude (a rotation's output can
    // cancel to near zero; its error scales with the inputs). k went through
    // f16 (relative 2^-11 of each value) on its way into the cache.
    float max_rel_q = 0, max_rel_k = 0;
    auto compare = [&](const std::vector<float>& in, const std::vector<float>& ref, const std::vector<float>& got, bool f16,
                       float& max_rel) {
      for (std::size_t row = 0; row < in.size() / static_cast<std::size_t>(2 * half); ++row)
        for (int i = 0; i < half; ++i) {
          const std::size_t a = row * 2 * static_cast<std::size_t>(half) + static_cast<std::size_t>(i);
          const std::size_t b = a + static_cast<std::size_t>(half);
          const float mag = rope.concentration() * std::hypot(in[a], in[b]);
          for (std::size_t e : {a, b}) {
            const float err = std::abs(got[e] - ref[e]) - (f16 ? std::ldexp(std::abs(ref[e]), -11) : 0.0f);
            max_rel = std::max(max_rel, err / std::max(mag, 1e-6f));
          }
        }
    };
    compare(q, q_ref, q_got, false, max_rel_q);
    compare(k, k_ref, k_got, true, max_rel_k);
    qInfo("rope pos %d ring %d: max error relative to the pair: q %.3g, k (past f16 rounding) %.3g", position, ring,
          static_cast<double>(max_rel_q), static_cast<double>(max_rel_k));
    QVERIFY2(max_rel_q < 1e-5f, qPrintable(QString("q: max relative error %1").arg(static_cast<double>(max_rel_q))));
    QVERIFY2(max_rel_k < 1e-5f, qPrintable(QString("k: max relative error %1").arg(static_cast<double>(max_rel_k))));
  }

  void rope_in_the_products_data() {
    QTest::addColumn<int>("heads");
    QTest::addColumn<int>("kv_heads");
    QTest::addColumn<int>("head_dim");
    QTest::addColumn<int>("cols");
    QTest::addColumn<int>("format");  // of common/dense.glsl: 0 F32, 2 BF16, 3 Q8
    QTest::addColumn<int>("position");
    QTest::addColumn<int>("ring");
    struct Shape {
      int heads, kv, hd, cols, format, pos, ring;
    };
    const std::vector<Shape> shapes = {
        {64, 8, 64, 2880, Q8, 4095, 0},  // gpt-oss-20b's GGUF: a full layer, and a sliding one's ring
        {64, 8, 64, 2880, Q8, 100003, 128},
        {64, 8, 64, 2880, BF16, 131071, 128},  // its Hugging Face files
        {5, 1, 12, 40, F32, 777, 0},     // half 6: head rows not a multiple of 8
        {3, 3, 8, 33, F32, 65537, 64},   // odd cols, a head of two workgroups
        {7, 2, 64, 96, BF16, 12345, 0},
    };
    for (const Shape& v : shapes)
      QTest::addRow("%dq/%dkv x %d cols %d %s pos %d ring %d", v.heads, v.kv, v.hd, v.cols,
                    format_name(v.format), v.pos, v.ring)
          << v.heads << v.kv << v.hd << v.cols << v.format << v.pos << v.ring;
  }

  // Decode's q/k/v products with RoPE and the KV append in their epilogue
  // (matvec.comp EPILOGUE 1..3) against the same products followed by
  // rope.comp, which the rope and matvec rows check against the CPU: the same
  // sums and the same rotation, so q agrees to float rounding and the cache
  // to one f16 step (a compiler may contract the rotation differently), and
  // no other cache slot is touched.
  void rope_in_the_products() {
    QFETCH(int, heads);
    QFETCH(int, kv_heads);
    QFETCH(int, head_dim);
    QFETCH(int, cols);
    QFETCH(int, format);
    QFETCH(int, position);
    QFETCH(int, ring);
    QCOMPARE(head_dim % 4, 0);  // what the backend requires of the fused path
    ModelConfig c;
    c.num_heads = heads;
    c.num_kv_heads = kv_heads;
    c.head_dim = head_dim;
    const cpu::YarnRope rope(c);
    const std::uint32_t half = static_cast<std::uint32_t>(head_dim / 2);
    const std::uint32_t Q = static_cast<std::uint32_t>(heads * head_dim), KV = static_cast<std::uint32_t>(kv_heads * head_dim);
    const std::uint32_t C = static_cast<std::uint32_t>(cols);
    std::mt19937 rng(static_cast<unsigned>(heads * 7 + cols + position));
    struct Uploaded {
      vk::Buffer words, scales;
    };
    std::uint32_t row_stride = 0;
    auto rows_of = [&](std::uint32_t rows) {  // the matrix as uploaded, scales for Q8
      auto values = random_floats(static_cast<std::size_t>(rows) * C, rng, -0.5f, 0.5f);
      const DenseRows d = dense_rows(values, C, static_cast<std::uint32_t>(format));
      row_stride = d.row_stride;
      return Uploaded{device_buffer(d.words.data(), d.words.size() * 4), device_buffer(d.scales.data(), d.scales.size() * 4)};
    };
    QVERIFY(format != BF16 || cols % 2 == 0);
    QVERIFY(format != Q8 || cols % 32 == 0);
    Uploaded wq = rows_of(Q), wk = rows_of(KV), wv = rows_of(KV);
    const auto bq = random_floats(Q, rng, -1.0f, 1.0f), bk = random_floats(KV, rng, -1.0f, 1.0f),
               bv = random_floats(KV, rng, -1.0f, 1.0f);
    vk::Buffer bqb = device_buffer(bq.data(), bq.size() * 4), bkb = device_buffer(bk.data(), bk.size() * 4),
               bvb = device_buffer(bv.data(), bv.size() * 4);
    const auto x = random_floats(C, rng, -3.0f, 3.0f);
    const auto norm = random_floats(C, rng, 0.5f, 1.5f);
    vk::Buffer xb = device_buffer(x.data(), x.size() * 4), nb = device_buffer(norm.data(), norm.size() * 4);
    vk::Buffer fb = device_buffer(rope.inv_freq().data(), rope.inv_freq().size() * 4);
    const auto step = step_words(position, 1);
    vk::Buffer stb = device_buffer(step.data(), step.size() * 4);
    const std::size_t cache_slots = ring ? static_cast<std::size_t>(ring) : static_cast<std::size_t>(position + 1);
    const std::size_t kv_words = KV / 2, slot = ring ? static_cast<std::size_t>(position % ring) : static_cast<std::size_t>(position);
    constexpr std::uint32_t kUntouched = 0xDEADBEEFu;
    const std::vector<std::uint32_t> empty_cache(cache_slots * kv_words, kUntouched);
    vk::Buffer unused(*device_, 4, vk::MemoryKind::DeviceLocal);
    const std::uint32_t wg = device_->workgroup_size(128);

    for (const bool subgroup : {false, true}) {
      std::unique_ptr<vk::ComputePipeline> product[4];
      for (std::uint32_t e = 0; e < 4; ++e) {
        product[e] = pipeline("matvec", 9, sizeof(vk::MatvecPush), {wg, 4, static_cast<std::uint32_t>(format), 1, e}, subgroup);
        if (!product[e]) break;
      }
      if (!product[0]) continue;  // no subgroup arithmetic on this device
      auto rope_p = pipeline("rope", 7, sizeof(vk::RopePush), {device_->workgroup_size(64)}, false);
      QVERIFY(rope_p);
      // One product: epilogue 0 into y, or 1..3 with the RoPE epilogue.
      auto product_into = [&](std::uint32_t epilogue, Uploaded& w, std::uint32_t rows, vk::Buffer& bias, vk::Buffer& y,
                              vk::Buffer* cache) {
        const vk::MatvecPush push{rows, C, row_stride, 0, rows, 0, 1, 1u | 4u, 1e-5f, half, rope.concentration(),
                                  static_cast<std::uint32_t>(ring)};
        runner_->dispatch(*product[epilogue], {&w.words, &w.scales, &xb, &bias, &y, &nb, &fb, &stb, cache ? cache : &unused},
                          &push, sizeof push, vk::flat_groups(*device_, vk::div_up(std::uint64_t{rows}, 4u)));
      };
      // Separate: the products, then rope.comp.
      vk::Buffer q1(*device_, Q * 4, vk::MemoryKind::DeviceLocal), k1(*device_, KV * 4, vk::MemoryKind::DeviceLocal),
          v1(*device_, KV * 4, vk::MemoryKind::DeviceLocal);
      vk::Buffer kc1 = device_buffer(empty_cache.data(), empty_cache.size() * 4),
                 vc1 = device_buffer(empty_cache.data(), empty_cache.size() * 4);
      product_into(0, wq, Q, bqb, q1, nullptr);
      product_into(0, wk, KV, bkb, k1, nullptr);
      product_into(0, wv, KV, bvb, v1, nullptr);
      const vk::RopePush rope_push{static_cast<std::uint32_t>(heads), static_cast<std::uint32_t>(kv_heads), half,
                                   rope.concentration(), static_cast<std::uint32_t>(ring)};
      runner_->dispatch(*rope_p, {&q1, &k1, &fb, &stb, &v1, &kc1, &vc1}, &rope_push, sizeof rope_push,
                        vk::flat_groups(*device_, vk::div_up(static_cast<std::uint64_t>(heads + kv_heads) * half, 64u)));
      // Fused.
      vk::Buffer q2(*device_, Q * 4, vk::MemoryKind::DeviceLocal);
      vk::Buffer kc2 = device_buffer(empty_cache.data(), empty_cache.size() * 4),
                 vc2 = device_buffer(empty_cache.data(), empty_cache.size() * 4);
      product_into(1, wq, Q, bqb, q2, nullptr);
      product_into(2, wk, KV, bkb, unused, &kc2);
      product_into(3, wv, KV, bvb, unused, &vc2);

      std::vector<float> q_sep(Q), q_fused(Q);
      runner_->download(q1, q_sep.data(), Q * 4);
      runner_->download(q2, q_fused.data(), Q * 4);
      float q_err = 0;
      for (std::size_t i = 0; i < Q; ++i)
        q_err = test::worst_of(q_err, std::abs(q_fused[i] - q_sep[i]) / std::max(std::abs(q_sep[i]), 1e-3f));
      std::vector<std::uint32_t> cache_sep(empty_cache.size()), cache_fused(empty_cache.size());
      int f16_steps = 0;
      for (const auto& [sep, fused] : {std::pair{&kc1, &kc2}, std::pair{&vc1, &vc2}}) {
        runner_->download(*sep, cache_sep.data(), cache_sep.size() * 4);
        runner_->download(*fused, cache_fused.data(), cache_fused.size() * 4);
        for (std::size_t i = 0; i < cache_fused.size(); ++i) {
          if (i / kv_words != slot) {
            QCOMPARE(cache_fused[i], kUntouched);
            continue;
          }
          for (int h = 0; h < 2; ++h) {
            const int a = static_cast<std::int16_t>(cache_sep[i] >> (16 * h));
            const int b = static_cast<std::int16_t>(cache_fused[i] >> (16 * h));
            f16_steps = std::max(f16_steps, std::abs(a - b));  // same sign: adjacent codes are one step apart
          }
        }
      }
      qInfo("%s: q max relative difference %.3g, cache within %d f16 step(s)", product[0]->module_name().c_str(),
            static_cast<double>(q_err), f16_steps);
      QVERIFY2(q_err < 1e-6f, qPrintable(QString("q: max relative difference %1").arg(static_cast<double>(q_err))));
      QVERIFY2(f16_steps <= 1, qPrintable(QString("cache: %1 f16 steps apart").arg(f16_steps)));
    }
  }

  void attention_data() {
    QTest::addColumn<QString>("kernel");  // attention (decode) or attention_prefill (tiled)
    QTest::addColumn<int>("heads");
    QTest::addColumn<int>("kv_heads");
    QTest::addColumn<int>("head_dim");
    QTest::addColumn<int>("position");  // of the first query token
    QTest::addColumn<int>("tokens");
    QTest::addColumn<int>("window");
    QTest::addColumn<int>("workgroup");
    QTest::addColumn<float>("q_range");  // larger: sharper softmax
    QTest::addColumn<bool>("subgroup");
    QTest::addColumn<int>("splits");  // attention: 0 = one workgroup sees all keys; else split mode, then combined
    QTest::addColumn<int>("key_tile");  // attention_prefill: keys staged per step (KEY_TILE)
    struct Shape {
      int heads, kv, hd, pos, window, wg;
      float q_range = 2.0f;
      int tokens = 1;
      int splits = 0;
    };
    const std::vector<Shape> decode = {
        {64, 8, 64, 0, 0, 128},   {64, 8, 64, 0, 128, 64},  {64, 8, 64, 200, 128, 128}, {64, 8, 64, 300, 0, 128},
        {64, 8, 64, 1000, 0, 256}, {8, 2, 48, 130, 0, 128}, {4, 4, 80, 77, 5, 64},      {2, 1, 200, 50, 0, 64},
        {6, 3, 64, 127, 128, 64}, {6, 3, 64, 128, 128, 64}, {3, 1, 18, 9, 1, 32},
        {2, 1, 100, 40, 0, 32},   {8, 1, 64, 4000, 0, 64},   {64, 8, 64, 500, 128, 128, 12.0f},
        {16, 2, 64, 2100, 0, 128, 12.0f}, {8, 2, 64, 5, 0, 64, 2.0f, 7},
        // More query heads a kv head than a workgroup serves (12: 2 blocks of
        // 6; 16: 2 of 8), and groups of 5 and 7.
        {24, 2, 64, 70, 0, 64},    {16, 1, 64, 40, 16, 32, 12.0f}, {10, 2, 48, 33, 0, 64}, {7, 1, 64, 20, 0, 32, 2.0f, 3},
        // Split mode, the last split folding them all (the backend's decode): runs of
        // one chunk (gpt-oss's decode at 4096), of several chunks (a longer
        // context than splits x chunk), a last run part full, runs past the
        // keys (empty), windows and rings, several tokens.
        {64, 8, 64, 4000, 0, 128, 2.0f, 1, 32},  {64, 8, 64, 4000, 0, 128, 2.0f, 1, 8},
        {64, 8, 64, 500, 128, 128, 12.0f, 1, 4}, {64, 8, 64, 300, 0, 64, 2.0f, 1, 2},
        {32, 2, 64, 300, 0, 64, 2.0f, 1, 3},     {10, 2, 48, 130, 20, 32, 2.0f, 1, 4},
        {8, 2, 64, 40, 0, 64, 2.0f, 5, 3},       {2, 1, 200, 90, 0, 64, 12.0f, 1, 2},
    };
    for (bool sg : {false, true})
      for (const Shape& s : decode)
        QTest::addRow("attention %s %dq/%dkv x %d pos %d tokens %d window %d wg %d q range %g splits %d",
                      sg ? "subgroup" : "shared", s.heads, s.kv, s.hd, s.pos, s.tokens, s.window, s.wg,
                      static_cast<double>(s.q_range), s.splits)
            << QString("attention") << s.heads << s.kv << s.hd << s.pos << s.tokens << s.window << s.wg << s.q_range << sg
            << s.splits << 0;
    // The tiled prefill kernel: G = heads / kv_heads rows per token, row blocks
    // of wg that split tokens, key tiles that straddle the window edges. The
    // backend's own configuration (wg 64, head_dim 64, key tile 32) runs the
    // first three; the other shapes use a key tile of 8 (more tile edges per
    // window), as lavapipe takes ~40 s to compile a kernel whose key tile and
    // head loops unroll to 32 x 32 steps, and CI starts with no shader cache.
    struct PrefillShape {
      Shape shape;
      int key_tile;
    };
    const std::vector<PrefillShape> prefill = {
        {{64, 8, 64, 0, 0, 64, 2.0f, 9}, 32},      {{64, 8, 64, 0, 128, 64, 2.0f, 200}, 32},
        {{64, 8, 64, 300, 128, 64, 2.0f, 37}, 32}, {{64, 8, 64, 1000, 0, 128, 12.0f, 20}, 8},
        {{6, 3, 64, 120, 16, 32, 2.0f, 33}, 8},    {{8, 2, 48, 7, 0, 64, 2.0f, 50}, 8},
        {{3, 1, 18, 9, 1, 32, 2.0f, 5}, 8},        {{5, 5, 80, 60, 5, 64, 12.0f, 13}, 8},
        {{12, 1, 64, 33, 0, 8, 2.0f, 3}, 8},       {{64, 8, 64, 300, 128, 64, 2.0f, 37}, 8},
    };
    for (const auto& [s, key_tile] : prefill)
      QTest::addRow("attention_prefill %dq/%dkv x %d pos %d tokens %d window %d wg %d q range %g key tile %d", s.heads,
                    s.kv, s.hd, s.pos, s.tokens, s.window, s.wg, static_cast<double>(s.q_range), key_tile)
          << QString("attention_prefill") << s.heads << s.kv << s.hd << s.pos << s.tokens << s.window << s.wg
          << s.q_range << false << 0 << key_tile;
  }

  // A chunk of `tokens` queries at positions position.. over an f16 cache,
  // against cpu::attention on a real cpu::KvCache holding the same values.
  void attention() {
    QFETCH(QString, kernel);
    QFETCH(int, heads);
    QFETCH(int, kv_heads);
    QFETCH(int, head_dim);
    QFETCH(int, position);
    QFETCH(int, tokens);
    QFETCH(int, window);
    QFETCH(int, workgroup);
    QFETCH(float, q_range);
    QFETCH(bool, subgroup);
    QFETCH(int, splits);
    QFETCH(int, key_tile);
    ModelConfig c;
    c.num_layers = 1;
    c.layer_is_sliding = {false};
    c.num_heads = heads;
    c.num_kv_heads = kv_heads;
    c.head_dim = head_dim;
    const int positions = position + tokens;
    cpu::KvCache cache(c, positions, 1);
    const int kv_dim = kv_heads * head_dim;
    std::mt19937 rng(static_cast<unsigned>(position * 5 + heads * 7 + head_dim + tokens));
    // The device cache holds f16: the reference gets the same rounded values.
    // Sliding windows use a ring of window + tokens + 2 slots when the positions wrap it.
    const int ring = window > 0 && positions > window + tokens + 2 ? window + tokens + 2 : 0;
    const int slot_total = ring ? ring : positions;
    std::vector<float> keys(static_cast<std::size_t>(positions) * kv_dim), values(keys.size());
    std::vector<std::uint16_t> key_slots(static_cast<std::size_t>(slot_total) * kv_dim), value_slots(key_slots.size());
    for (int pos = 0; pos < positions; ++pos) {
      auto kr = random_floats(static_cast<std::size_t>(kv_dim), rng, -2.0f, 2.0f);
      auto vr = random_floats(static_cast<std::size_t>(kv_dim), rng, -2.0f, 2.0f);
      for (auto* v : {&kr, &vr})
        for (float& f : *v) f = round_to_f16(f);
      const std::size_t slot = static_cast<std::size_t>(ring ? pos % ring : pos) * kv_dim;
      for (int i = 0; i < kv_dim; ++i) {
        key_slots[slot + static_cast<std::size_t>(i)] = f32_to_f16(kr[static_cast<std::size_t>(i)]);
        value_slots[slot + static_cast<std::size_t>(i)] = f32_to_f16(vr[static_cast<std::size_t>(i)]);
      }
      cache.store(0, pos, kr.data(), vr.data());
      std::copy(kr.begin(), kr.end(), keys.begin() + static_cast<std::ptrdiff_t>(pos) * kv_dim);
      std::copy(vr.begin(), vr.end(), values.begin() + static_cast<std::ptrdiff_t>(pos) * kv_dim);
    }
    cache.set_position(positions);
    const auto q = random_floats(static_cast<std::size_t>(tokens) * heads * head_dim, rng, -q_range, q_range);
    const auto sinks = random_floats(static_cast<std::size_t>(heads), rng, -3.0f, 3.0f);
    const VectorView sv = test::float_view(sinks);
    std::vector<float> ref(q.size());
    const cpu::OpContext ctx{pool_, cpu::cpu_kernels()};
    cpu::attention(ctx, cache, 0, cpu::AttentionShape{heads, kv_heads, head_dim, window}, sv, q.data(), position, tokens,
                   ref.data());

    const std::uint32_t wg = device_->workgroup_size(static_cast<std::uint32_t>(workgroup));
    const bool tiled = kernel == "attention_prefill";
    const std::uint32_t group = vk::attention_head_group(static_cast<std::uint32_t>(heads / kv_heads));  // attention.comp's GROUP
    std::unique_ptr<vk::ComputePipeline> p;
    if (tiled) {
      p = pipeline("attention_prefill", 6, sizeof(vk::PrefillAttentionPush),
                   {wg, static_cast<std::uint32_t>(head_dim), static_cast<std::uint32_t>(key_tile)}, false);
    } else {
      QVERIFY(static_cast<std::uint32_t>(head_dim) <= 4 * wg);
      p = pipeline("attention", 8, sizeof(vk::AttentionPush),
                   {wg, static_cast<std::uint32_t>(head_dim), group}, subgroup);
    }
    if (!p) QSKIP("the device has no subgroup arithmetic");
    const auto step = step_words(position, tokens);
    vk::Buffer stb = device_buffer(step.data(), step.size() * 4);
    vk::Buffer qb = device_buffer(q.data(), q.size() * 4);
    vk::Buffer kb = device_buffer(key_slots.data(), key_slots.size() * 2);
    vk::Buffer vb = device_buffer(value_slots.data(), value_slots.size() * 2);
    vk::Buffer sb = device_buffer(sinks.data(), sinks.size() * 4);
    vk::Buffer ob(*device_, q.size() * 4, vk::MemoryKind::DeviceLocal);
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    const auto T = static_cast<std::uint32_t>(tokens);
    if (tiled) {
      const vk::PrefillAttentionPush push{static_cast<std::uint32_t>(heads), static_cast<std::uint32_t>(kv_heads),
                                      static_cast<std::uint32_t>(window), static_cast<std::uint32_t>(ring), scale, T};
      runner_->dispatch(*p, {&stb, &qb, &kb, &vb, &sb, &ob}, &push, sizeof push,
                        vk::GroupCount{static_cast<std::uint32_t>(kv_heads),
                                       vk::div_up(static_cast<std::uint64_t>(tokens) * (heads / kv_heads), wg), 1});
    } else {
      const auto H = static_cast<std::uint32_t>(heads);
      const std::uint32_t head_blocks = H / group;
      const auto Y = static_cast<std::uint32_t>(std::max(splits, 1));
      const vk::AttentionPush push{H, static_cast<std::uint32_t>(kv_heads), static_cast<std::uint32_t>(window),
                                   static_cast<std::uint32_t>(ring), scale, splits > 0 ? 1u : 0u, Y};
      // Split mode's partial states and arrival counts (one a token and head block, zero to start).
      vk::Buffer partial(*device_, std::uint64_t{T} * H * Y * static_cast<std::uint32_t>(head_dim + 2) * 4,
                         vk::MemoryKind::DeviceLocal);
      const std::vector<std::uint32_t> no_arrivals(std::size_t{T} * head_blocks, 0);
      vk::Buffer arrivals = device_buffer(no_arrivals.data(), no_arrivals.size() * 4);
      // NaNs in the partial states: a fold that read a split before it was written would show.
      const std::vector<float> partial_nans(partial.size() / 4, std::numeric_limits<float>::quiet_NaN());
      runner_->upload(partial, partial_nans.data(), partial.size());
      runner_->dispatch(*p, {&stb, &qb, &kb, &vb, &sb, &ob, &partial, &arrivals}, &push, sizeof push,
                        vk::GroupCount{head_blocks, Y, T});
      if (splits > 0) {
        // The last split to arrive leaves the counts at zero for the next
        // dispatch: a second one over an output of NaNs gives the same bits.
        std::vector<float> first(q.size());
        runner_->download(ob, first.data(), first.size() * 4);
        const std::vector<float> nans(q.size(), std::numeric_limits<float>::quiet_NaN());
        runner_->upload(ob, nans.data(), nans.size() * 4);
        runner_->upload(partial, partial_nans.data(), partial.size());
        runner_->dispatch(*p, {&stb, &qb, &kb, &vb, &sb, &ob, &partial, &arrivals}, &push, sizeof push,
                          vk::GroupCount{head_blocks, Y, T});
        std::vector<float> second(q.size());
        runner_->download(ob, second.data(), second.size() * 4);
        QVERIFY2(std::memcmp(first.data(), second.data(), first.size() * 4) == 0,
                 "a second split dispatch differs from the first (arrival counts not reset?)");
      }
    }
    std::vector<float> got(q.size());
    runner_->download(ob, got.data(), got.size() * 4);
    // The output is a sub-convex combination of values in [-2, 2]: errors are
    // measured against that scale. Two float32 dot products in different
    // orders give scores that differ in proportion to sum_d |q_d k_d|, and a
    // score error e moves the weights by a factor exp(e): the tolerance is
    // 1e-5 up to scores bounded by 16 and grows in proportion beyond.
    float score_bound = 0;
    for (int t = 0; t < tokens; ++t)
      for (int h = 0; h < heads; ++h)
        for (int pos = 0; pos < positions; ++pos) {
          double m = 0;
          for (int d = 0; d < head_dim; ++d)
            m += std::abs(static_cast<double>(q[static_cast<std::size_t>((t * heads + h) * head_dim + d)]) *
                          keys[static_cast<std::size_t>(pos * kv_dim + (h / (heads / kv_heads)) * head_dim + d)]);
          score_bound = std::max(score_bound, static_cast<float>(m / std::sqrt(head_dim)));
        }
    const float tolerance = 1e-5f * std::max(1.0f, score_bound / 16.0f);
    float max_abs = 0;
    for (std::size_t i = 0; i < got.size(); ++i) max_abs = test::worst_of(max_abs, std::abs(got[i] - ref[i]));
    const float rel = max_abs / 2.0f;
    qInfo("%s ring %d wg %u pos %d tokens %d window %d: max abs err %.3g (relative to max |v| %.3g, tolerance %.3g)",
          p->module_name().c_str(), ring, wg, position, tokens, window, static_cast<double>(max_abs),
          static_cast<double>(rel), static_cast<double>(tolerance));
    QVERIFY2(rel < tolerance, qPrintable(QString("max relative error %1").arg(static_cast<double>(rel))));
  }

  void router_topk_data() {
    QTest::addColumn<int>("experts");
    QTest::addColumn<int>("k");
    QTest::addColumn<int>("tokens");
    QTest::addColumn<int>("cols");
    QTest::addColumn<bool>("ties");
    QTest::addColumn<int>("format");  // of common/dense.glsl: 0 F32, 2 BF16, 3 Q8
    QTest::addColumn<int>("workgroup");
    struct Shape {
      int e, k, tokens, cols;
      bool ties;
      int format, wg;
    };
    const std::vector<Shape> shapes = {
        {32, 4, 1, 2880, false, BF16, 128}, {32, 4, 5, 130, true, BF16, 64},   {128, 8, 3, 96, false, F32, 64},
        {128, 4, 70, 64, true, F32, 32},    {7, 3, 2, 33, false, F32, 64},    {1, 1, 1, 8, false, BF16, 64},
        {128, 1, 2, 70, true, BF16, 128},   {100, 8, 9, 200, true, F32, 64},   {8, 8, 4, 128, true, BF16, 32},
        // the backend's workgroup: gpt-oss-20b's F32 router in decode, and 120b's 128 experts
        {32, 4, 1, 2880, false, F32, 1024}, {128, 4, 2, 2880, false, BF16, 1024}, {33, 8, 3, 200, true, F32, 1024},
        // split mode with a short last slice (37 blocks: 12 slices of 3, one of 1), the most tokens it takes, and ties
        {32, 4, 16, 1184, false, F32, 1024}, {128, 8, 2, 1184, true, BF16, 64},
        // a Q8 router (a quantization that takes it to 8 bits), split and not
        {32, 4, 1, 2880, false, Q8, 1024},  {20, 4, 40, 96, false, Q8, 64}};
    for (const Shape& s : shapes)
      QTest::addRow("E %d k %d tokens %d cols %d%s %s wg %d", s.e, s.k, s.tokens, s.cols, s.ties ? " ties" : "",
                    format_name(s.format), s.wg)
          << s.e << s.k << s.tokens << s.cols << s.ties << s.format << s.wg;
  }

  // The fused router: n = RMSNorm(x) (written out), logits = W n + bias, then
  // top-k and softmax over the k. With `ties`, x is zero (so is n) and the
  // biases take few values, so the logits tie exactly. Each shape runs with
  // one workgroup per token and, where router_split() splits it (the
  // backend's decode), over column slices: twice, over outputs and slice
  // logits of NaN, so a sum that read a slice before it was written, or a
  // count not reset for the next dispatch, would show.
  void router_topk() {
    QFETCH(int, experts);
    QFETCH(int, k);
    QFETCH(int, tokens);
    QFETCH(int, cols);
    QFETCH(bool, ties);
    QFETCH(int, format);
    QFETCH(int, workgroup);
    std::mt19937 rng(static_cast<unsigned>(experts * 11 + k * 3 + tokens + cols));
    QVERIFY(format != BF16 || cols % 2 == 0);   // BF16 rows hold whole words
    QVERIFY(format != Q8 || cols % 32 == 0);    // Q8 rows whole blocks
    const std::size_t E = static_cast<std::size_t>(experts), C = static_cast<std::size_t>(cols);
    auto weights = random_floats(E * C, rng, -0.5f, 0.5f);
    auto x = random_floats(static_cast<std::size_t>(tokens) * C, rng, -1.0f, 1.0f);
    auto bias = random_floats(E, rng, -1.0f, 1.0f);
    const auto norm = random_floats(C, rng, 0.5f, 1.5f);
    const float eps = 1e-5f;
    if (ties) {
      std::fill(x.begin(), x.end(), 0.0f);
      for (auto& v : bias) v = std::round(v * 4.0f) / 4.0f;  // 9 distinct values: many ties
    }
    const DenseRows rows = dense_rows(weights, C, static_cast<std::uint32_t>(format));
    // The selection and weighting of cpu::moe, on logits summed in double.
    std::vector<std::uint32_t> ref_index;
    std::vector<float> ref_weight;
    std::vector<float> l(E);
    std::vector<float> ref_normed(x.size());
    for (int t = 0; t < tokens; ++t) {
      const float* xt = x.data() + static_cast<std::size_t>(t) * C;
      float* nt = ref_normed.data() + static_cast<std::size_t>(t) * C;
      double ss = 0;
      for (std::size_t c = 0; c < C; ++c) ss += static_cast<double>(xt[c]) * xt[c];
      const double inv = 1.0 / std::sqrt(ss / static_cast<double>(C) + eps);
      for (std::size_t c = 0; c < C; ++c) nt[c] = static_cast<float>(xt[c] * inv * norm[c]);
      for (std::size_t e = 0; e < E; ++e) {
        double dot = 0;
        for (std::size_t c = 0; c < C; ++c) dot += static_cast<double>(weights[e * C + c]) * nt[c];
        l[e] = static_cast<float>(dot) + bias[e];
      }
      const test::ExpertChoice chosen = test::choose_experts(l.data(), experts, k);
      ref_index.insert(ref_index.end(), chosen.index.begin(), chosen.index.end());
      ref_weight.insert(ref_weight.end(), chosen.weight.begin(), chosen.weight.end());
    }

    const std::uint32_t wg = device_->workgroup_size(static_cast<std::uint32_t>(workgroup));
    const std::uint32_t T = static_cast<std::uint32_t>(tokens), C32 = static_cast<std::uint32_t>(cols);
    vk::Buffer wb = device_buffer(rows.words.data(), rows.words.size() * 4);
    vk::Buffer sb = device_buffer(rows.scales.data(), rows.scales.size() * 4);  // Q8 only
    vk::Buffer xb = device_buffer(x.data(), x.size() * 4);
    vk::Buffer bb = device_buffer(bias.data(), bias.size() * 4);
    vk::Buffer nb = device_buffer(norm.data(), norm.size() * 4);
    vk::Buffer normed_b(*device_, x.size() * 4, vk::MemoryKind::DeviceLocal);
    vk::Buffer ib(*device_, ref_index.size() * 4, vk::MemoryKind::DeviceLocal);
    vk::Buffer ob(*device_, ref_weight.size() * 4, vk::MemoryKind::DeviceLocal);
    const std::vector<float> slice_nans(static_cast<std::size_t>(T) * vk::kRouterMaxSplits * E,
                                        std::numeric_limits<float>::quiet_NaN());
    vk::Buffer partial = device_buffer(slice_nans.data(), slice_nans.size() * 4);
    const std::vector<std::uint32_t> no_arrivals(T, 0);
    vk::Buffer arrivals = device_buffer(no_arrivals.data(), no_arrivals.size() * 4);
    const vk::RouterSplit split = vk::router_split(C32, T);
    QVERIFY(split.splits == 1 || (split.splits <= vk::kRouterMaxSplits && split.width % 32 == 0));
    std::vector<vk::RouterSplit> modes = {{C32, 1}};
    if (split.splits > 1) modes.push_back(split);
    for (const bool subgroup : {false, true}) {
      auto p = pipeline("router_topk", 10, sizeof(vk::RouterPush), {wg, static_cast<std::uint32_t>(format)}, subgroup);
      if (!p) continue;  // no subgroup arithmetic on this device
      for (const vk::RouterSplit& mode : modes) {
        const vk::RouterPush push{static_cast<std::uint32_t>(experts), static_cast<std::uint32_t>(k), T, C32,
                                  rows.row_stride, eps, mode.width, mode.splits};
        const vk::GroupCount grid =
            mode.splits > 1 ? vk::GroupCount{mode.splits, T, 1} : vk::flat_groups(*device_, static_cast<std::uint64_t>(tokens));
        for (int run = 0; run < (mode.splits > 1 ? 2 : 1); ++run) {
          const std::vector<float> nans(std::max(x.size(), ref_weight.size()), std::numeric_limits<float>::quiet_NaN());
          runner_->upload(normed_b, nans.data(), normed_b.size());
          runner_->upload(ib, nans.data(), ib.size());
          runner_->upload(ob, nans.data(), ob.size());
          runner_->upload(partial, slice_nans.data(), partial.size());
          runner_->dispatch(*p, {&wb, &sb, &xb, &bb, &ib, &ob, &nb, &normed_b, &partial, &arrivals}, &push, sizeof push,
                            grid);
          std::vector<std::uint32_t> got_index(ref_index.size());
          std::vector<float> got_weight(ref_weight.size());
          runner_->download(ib, got_index.data(), got_index.size() * 4);
          runner_->download(ob, got_weight.data(), got_weight.size() * 4);
          std::vector<float> got_normed(x.size());
          runner_->download(normed_b, got_normed.data(), got_normed.size() * 4);
          float normed_err = 0;
          for (std::size_t i = 0; i < got_normed.size(); ++i)
            normed_err =
                test::worst_of(normed_err, std::abs(got_normed[i] - ref_normed[i]) / (std::abs(ref_normed[i]) + 1e-6f));
          QVERIFY2(normed_err < 1e-5f,
                   qPrintable(QString("normed row: max relative error %1").arg(static_cast<double>(normed_err))));
          QCOMPARE(got_index, ref_index);
          float max_rel = 0;
          for (std::size_t i = 0; i < got_weight.size(); ++i)
            max_rel = test::worst_of(max_rel, std::abs(got_weight[i] - ref_weight[i]) / ref_weight[i]);
          qInfo("router_topk %s E %d k %d splits %u run %d: indices equal, max weight rel err %.3g",
                p->module_name().c_str(), experts, k, mode.splits, run, static_cast<double>(max_rel));
          QVERIFY2(max_rel < 1e-4f, qPrintable(QString("max relative error %1").arg(static_cast<double>(max_rel))));
        }
      }
      std::vector<std::uint32_t> counts(T);
      runner_->download(arrivals, counts.data(), counts.size() * 4);
      QCOMPARE(counts, no_arrivals);  // left zero for the next dispatch
    }
  }

  void swiglu_data() {
    QTest::addColumn<int>("n");
    QTest::addColumn<int>("workgroup");
    for (auto [n, wg] : std::vector<std::pair<int, int>>{{1, 64}, {255, 64}, {2880, 256}, {2880 * 4 + 3, 128},
                                                         {70000 * 64 + 13, 64}})
      QTest::addRow("n %d wg %d", n, wg) << n << wg;
  }

  void swiglu() {
    QFETCH(int, n);
    QFETCH(int, workgroup);
    std::mt19937 rng(static_cast<unsigned>(n));
    const auto gate = random_floats(static_cast<std::size_t>(n), rng, -12.0f, 12.0f);
    const auto up = random_floats(static_cast<std::size_t>(n), rng, -12.0f, 12.0f);
    const float limit = 7.0f;
    std::vector<float> ref(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < ref.size(); ++i) ref[i] = reference_swiglu(gate[i], up[i], limit);

    const std::uint32_t wg = device_->workgroup_size(static_cast<std::uint32_t>(workgroup));
    auto p = pipeline("swiglu", 3, sizeof(SwigluPush), {wg}, false);
    QVERIFY(p);
    vk::Buffer gb = device_buffer(gate.data(), gate.size() * 4);
    vk::Buffer ub = device_buffer(up.data(), up.size() * 4);
    vk::Buffer ob(*device_, ref.size() * 4, vk::MemoryKind::DeviceLocal);
    const SwigluPush push{static_cast<std::uint32_t>(n), limit};
    runner_->dispatch(*p, {&gb, &ub, &ob}, &push, sizeof push,
                      vk::flat_groups(*device_, vk::div_up(static_cast<std::uint64_t>(n), wg)));
    std::vector<float> got(ref.size());
    runner_->download(ob, got.data(), got.size() * 4);
    // Relative to the magnitude of the factors (the (u + 1) factor can cancel to zero).
    float max_abs = 0, max_rel = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
      const float g = std::min(gate[i], limit);
      const float scale = std::abs(g) * (std::abs(std::clamp(up[i], -limit, limit)) + 1.0f);
      const float err = std::abs(got[i] - ref[i]);
      max_abs = std::max(max_abs, err);
      max_rel = std::max(max_rel, err / std::max(scale, 1e-30f));
    }
    qInfo("swiglu n %d: max abs err %.3g, max rel err %.3g", n, static_cast<double>(max_abs),
          static_cast<double>(max_rel));
    QVERIFY2(max_rel < 1e-5f, qPrintable(QString("max relative error %1").arg(static_cast<double>(max_rel))));
  }

  void cleanupTestCase() {
    runner_.reset();
    device_.reset();
    instance_.reset();
  }
};

int main(int argc, char** argv) {
  TestVulkanOps2 t;
  return vk_test::run_vulkan_test(t, argc, argv);
}

#include "test_vulkan_ops2.moc"

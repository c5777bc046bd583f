// The MoE half of a layer on Vulkan, op by op, against cpu::moe: the fused
// router (norm, logits, top-k, softmax), then the MXFP4 experts either as the
// decode kernels (moe_gate_up, moe_down into the residual) or as the grouped
// prefill kernels (moe_route, moe_gate_up_grouped, moe_down_grouped,
// moe_combine), each in the shared-memory and the subgroup variant. The
// weights are layer 0 of a synthesized model, uploaded by vk::GpuWeights as
// the backend uploads them, with 8 experts, or 128 as gpt-oss-120b, from a
// Hugging Face folder (BF16 router) or a GGUF file (F32 router, ggml's FP4
// packing).
// vulkan_model checks the same kernels only inside whole models, on the
// subgroup variant a device picks.
#include <QObject>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/ops.h"
#include "backends/vulkan/vk_push_constants.h"
#include "backends/vulkan/vk_weights.h"
#include "model/model.h"
#include "model/synth.h"
#include "op_checks.h"
#include "vulkan_test_support.h"

using namespace ossdesk;

namespace {

std::uint32_t u32(std::int64_t v) { return static_cast<std::uint32_t>(v); }

// A model and its weights on the device.
struct UploadedModel {
  std::unique_ptr<Model> model;
  std::unique_ptr<vk::GpuWeights> weights;
};

}  // namespace

class TestVulkanExperts : public vk_test::VulkanOpTest {
  Q_OBJECT

  const cpu::OpContext ctx_{pool_, cpu::cpu_kernels()};
  UploadedModel model_8_experts_, model_8_experts_gguf_, model_128_experts_;

  UploadedModel synthesize(int experts, bool gguf, const std::string& name) {
    SynthOptions o;
    o.config = config_preset("tiny");
    o.config.hidden_size = 160;  // 5 MXFP4 blocks a row: fewer than a workgroup's invocations
    o.config.intermediate_size = 96;
    o.config.vocab_size = 1000;
    o.config.num_experts = experts;
    o.gguf = gguf;
    o.out = std::string(OSSDESK_TEST_WORK_DIR) + "/" + name;
    o.seed = 21;
    synth_model(o);
    UploadedModel m;
    m.model = Model::open(o.out);
    m.weights = std::make_unique<vk::GpuWeights>(*device_, m.model->config(), m.model->weights());
    m.weights->upload(LoadControl{});
    return m;
  }

 private slots:
  void initTestCase() {
    qInfo("device: %s", open_device().info.name.c_str());
    model_8_experts_ = synthesize(8, false, "vulkan-experts-8-hf");
    model_8_experts_gguf_ = synthesize(8, true, "vulkan-experts-8.gguf");
    model_128_experts_ = synthesize(config_preset("120b").num_experts, false, "vulkan-experts-128-hf");
  }

  void experts_match_cpu_moe_data() {
    QTest::addColumn<int>("experts");
    QTest::addColumn<bool>("gguf");
    QTest::addColumn<int>("tokens");
    QTest::addColumn<int>("k");  // experts per token (the model's: 4)
    QTest::addColumn<bool>("grouped");
    QTest::addColumn<int>("rows");  // rows (gate/up pairs for gate_up) per workgroup
    QTest::addColumn<int>("tile");  // grouped: assignments per tile
    QTest::addColumn<bool>("clamped");  // SwiGLU at kTightSwigluLimit, not the model's 7 (which these activations stay under)
    QTest::newRow("8 experts, decode") << 8 << false << 1 << 4 << false << 2 << 0 << false;
    QTest::newRow("8 experts, 3 tokens, top 3, one row") << 8 << false << 3 << 3 << false << 1 << 0 << false;
    QTest::newRow("8 experts, 3 tokens, 4 rows") << 8 << false << 3 << 4 << false << 4 << 0 << false;
    QTest::newRow("8 experts, grouped, 37 tokens") << 8 << false << 37 << 4 << true << 2 << 8 << false;
    QTest::newRow("8 experts, grouped, 5 tokens, tiles of 3") << 8 << false << 5 << 4 << true << 1 << 3 << false;
    QTest::newRow("8 experts, GGUF, decode") << 8 << true << 1 << 4 << false << 2 << 0 << false;
    QTest::newRow("8 experts, GGUF, grouped, 37 tokens") << 8 << true << 37 << 4 << true << 2 << 8 << false;
    QTest::newRow("128 experts, decode") << 128 << false << 1 << 4 << false << 2 << 0 << false;
    QTest::newRow("128 experts, grouped, 37 tokens") << 128 << false << 37 << 4 << true << 2 << 8 << false;
    // A limit the gate and up values cross, so a clamp left out shows
    QTest::newRow("8 experts, decode, clamped") << 8 << false << 1 << 4 << false << 2 << 0 << true;
    QTest::newRow("8 experts, grouped, 37 tokens, clamped") << 8 << false << 37 << 4 << true << 2 << 8 << true;
  }

  // Layer 0's MLP on random residual rows: the residual after the experts
  // against cpu::moe's, relative to the size of the experts' contribution.
  void experts_match_cpu_moe() {
    QFETCH(int, experts);
    QFETCH(bool, gguf);
    QFETCH(int, tokens);
    QFETCH(int, k);
    QFETCH(bool, grouped);
    QFETCH(int, rows);
    QFETCH(int, tile);
    QFETCH(bool, clamped);
    const UploadedModel& m = experts == 128 ? model_128_experts_ : (gguf ? model_8_experts_gguf_ : model_8_experts_);
    ModelConfig c = m.model->config();
    QCOMPARE(c.num_experts, experts);
    c.experts_per_token = k;
    if (clamped) c.swiglu_limit = test::kTightSwigluLimit;
    const int H = c.hidden_size, I = c.intermediate_size;
    const LayerWeights& L = m.model->weights().layers[0];
    std::mt19937 rng(static_cast<unsigned>(experts + tokens * 7 + k + rows * 3 + tile + (gguf ? 100 : 0)));
    const auto x = test::random_floats(static_cast<std::size_t>(tokens) * H, rng, -3.0f, 3.0f);
    std::vector<float> normed(x.size()), ref = x;
    cpu::rmsnorm(x.data(), L.mlp_norm, c.rms_norm_eps, tokens, H, normed.data());
    cpu::moe(ctx_, L, c, normed.data(), tokens, ref.data());

    const vk::GpuWeights& w = *m.weights;
    const vk::GpuLayer& G = w.layers[0];
    QCOMPARE(L.gate.first.format, gguf ? WeightFormat::MXFP4_GGML : WeightFormat::MXFP4_HF);
    QCOMPARE(G.router.format, gguf ? vk::kDenseF32 : vk::kDenseBF16);
    QCOMPARE(G.router.parts.size(), std::size_t{1});
    const vk::GpuMatrix::Part& router = G.router.parts.front();
    const std::uint32_t T = u32(tokens), K = u32(k), E = u32(experts);
    const std::uint64_t assignments = std::uint64_t{T} * K;
    const float eps = static_cast<float>(c.rms_norm_eps), limit = static_cast<float>(c.swiglu_limit);
    auto scratch = [this](std::uint64_t words) {
      return vk::Buffer(*device_, 4 * std::max<std::uint64_t>(words, 1), vk::MemoryKind::DeviceLocal);
    };
    const std::uint32_t tiles = grouped ? vk::max_route_tiles(assignments, E, u32(tile)) : 0;
    const std::uint32_t entry_base = vk::route_entry_base(tiles);

    for (const bool subgroup : {false, true}) {
      auto router_p =
          pipeline("router_topk", 10, sizeof(vk::RouterPush), {device_->workgroup_size(1024), G.router.format}, subgroup);
      if (!router_p) continue;  // no subgroup arithmetic on this device
      vk::Buffer xb = device_buffer(x.data(), x.size() * 4);
      vk::Buffer normed_b = scratch(x.size()), choice = scratch(assignments), weight = scratch(assignments);
      vk::Buffer act = scratch(assignments * I), route = scratch(entry_base + assignments), out = scratch(assignments * H);
      vk::Buffer no_scales = scratch(1);  // F32 and BF16 routers read no Q8 scales
      // The router as the backend runs it: short chunks split over column slices.
      const vk::RouterSplit split = vk::router_split(G.router.cols, T);
      const std::vector<std::uint32_t> no_arrivals(T, 0);
      vk::Buffer router_partial = scratch(std::uint64_t{T} * vk::kRouterMaxSplits * E);
      vk::Buffer router_arrivals = device_buffer(no_arrivals.data(), no_arrivals.size() * 4);
      const vk::RouterPush router_push{E, K, T, G.router.cols, G.router.row_stride, eps, split.width, split.splits};
      runner_->dispatch(*router_p,
                        {w.info(router.words), vk::whole(no_scales), vk::whole(xb), w.info(G.router_bias), vk::whole(choice),
                         vk::whole(weight), w.info(G.mlp_norm), vk::whole(normed_b), vk::whole(router_partial),
                         vk::whole(router_arrivals)},
                        &router_push, sizeof router_push,
                        split.splits > 1 ? vk::GroupCount{split.splits, T, 1} : vk::flat_groups(*device_, T));
      const std::uint32_t wg = device_->workgroup_size(32);
      if (!grouped) {
        auto gate_up = pipeline("moe_gate_up", 6, sizeof(vk::GateUpPush), {wg, u32(rows)}, subgroup);
        auto down = pipeline("moe_down", 7, sizeof(vk::DownPush), {wg, u32(rows)}, subgroup);
        for (const vk::GpuExpertGroup& g : G.experts) {
          const vk::GateUpPush push{u32(H), u32(I), K, g.e0, g.count, limit};
          runner_->dispatch(*gate_up,
                            {vk::whole(choice), w.info(g.gate_up_qs), w.info(g.gate_up_scales), vk::whole(normed_b),
                             w.info(G.gate_up_bias), vk::whole(act)},
                            &push, sizeof push, {vk::div_up(u32(I), u32(rows)), K, T});
        }
        for (const vk::GpuExpertGroup& g : G.experts) {
          const vk::DownPush push{u32(H), u32(I), K, g.e0, g.count};
          runner_->dispatch(*down,
                            {vk::whole(choice), vk::whole(weight), w.info(g.down_qs), w.info(g.down_scales), vk::whole(act),
                             w.info(G.down_bias), vk::whole(xb)},
                            &push, sizeof push, vk::flat_groups(*device_, vk::div_up(u32(H), u32(rows)), T));
        }
      } else {
        auto route_p = pipeline("moe_route", 2, sizeof(vk::RoutePush), {device_->workgroup_size(256), u32(tile)}, false);
        const std::uint32_t pairs = std::min(u32(rows), 2u);  // moe_gate_up_grouped: 1..2 pairs
        auto gate_up = pipeline("moe_gate_up_grouped", 6, sizeof(vk::GateUpGroupedPush), {wg, pairs, u32(tile)}, subgroup);
        auto down = pipeline("moe_down_grouped", 7, sizeof(vk::DownGroupedPush), {wg, u32(rows), u32(tile)}, subgroup);
        auto combine = pipeline("moe_combine", 2, sizeof(vk::CombinePush), {device_->workgroup_size(256)}, false);
        const vk::RoutePush route_push{u32(assignments), E, entry_base};
        runner_->dispatch(*route_p, {vk::whole(choice), vk::whole(route)}, &route_push, sizeof route_push, {1, 1, 1});
        for (const vk::GpuExpertGroup& g : G.experts) {
          const vk::GateUpGroupedPush push{u32(H), u32(I), K, g.e0, g.count, limit, entry_base};
          runner_->dispatch(*gate_up,
                            {vk::whole(route), w.info(g.gate_up_qs), w.info(g.gate_up_scales), vk::whole(normed_b),
                             w.info(G.gate_up_bias), vk::whole(act)},
                            &push, sizeof push, {vk::div_up(u32(I), pairs), tiles, 1});
        }
        for (const vk::GpuExpertGroup& g : G.experts) {
          const vk::DownGroupedPush push{u32(H), u32(I), K, g.e0, g.count, entry_base};
          runner_->dispatch(*down,
                            {vk::whole(route), vk::whole(weight), w.info(g.down_qs), w.info(g.down_scales), vk::whole(act),
                             w.info(G.down_bias), vk::whole(out)},
                            &push, sizeof push, {vk::div_up(u32(H), u32(rows)), tiles, 1});
        }
        const vk::CombinePush push{u32(H), K, T};
        runner_->dispatch(*combine, {vk::whole(out), vk::whole(xb)}, &push, sizeof push,
                          vk::flat_groups(*device_, vk::div_up(std::uint64_t{T} * u32(H), device_->workgroup_size(256))));
      }
      std::vector<float> got(x.size());
      runner_->download(xb, got.data(), got.size() * 4);
      const test::ExpertsError e = test::experts_error(got, ref, x);
      qInfo("%s: max |diff| = %g (largest contribution %g)", subgroup ? "subgroup" : "shared memory",
            static_cast<double>(e.diff), static_cast<double>(e.contribution));
      QVERIFY(e.contribution > 0.1f);
      QVERIFY2(e.diff < 1e-5f * e.contribution, qPrintable(QString("max |diff| %1").arg(static_cast<double>(e.diff))));
    }
  }
};

int main(int argc, char** argv) {
  TestVulkanExperts test;
  return vk_test::run_vulkan_test(test, argc, argv);
}

#include "test_vulkan_experts.moc"

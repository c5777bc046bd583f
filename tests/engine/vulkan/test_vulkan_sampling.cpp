// The device picks of the Vulkan backend against the host sampler
// (engine/src/backends/sampling.cpp) on rows of logits the test writes: the
// draw (sample.comp, its passes as vk_sampling.h lists them, run one dispatch
// at a time) with every filter combination on rows up to gpt-oss's 201088
// tokens (64 workgroups a pass), non-finite logits and a row that is not the
// buffer's first; and the two-pass argmax with ties that straddle its
// workgroups. Both reduction variants run where the device has subgroup
// arithmetic. The vulkan_model test checks the same picks inside the recorded
// forward pass on a real model's logits. Exits 77 (skipped) when the machine
// has no Vulkan device at all.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>

#include "backends/sampling.h"
#include "backends/vulkan/vk_push_constants.h"
#include "backends/vulkan/vk_sampling.h"
#include "vulkan_test_support.h"

using namespace ossdesk;

namespace {

constexpr std::uint32_t kParams = 8;  // word of the sampling parameters in the step buffer, after the header

}  // namespace

class TestVulkanSampling : public vk_test::VulkanOpTest {
  Q_OBJECT

 private:
  // Runs the draw's passes over row 1 of `rows` and returns step words 1 and 4.
  std::pair<std::uint32_t, std::uint32_t> device_draw(const vk::ComputePipeline& p, vk::Buffer& logits, vk::Buffer& step,
                                                      vk::Buffer& draw, std::uint32_t n, std::uint32_t groups,
                                                      const SamplingParams& params, float u) {
    const auto words = vk::draw_param_words(params, u);
    const std::uint32_t header[5] = {0, 0xdeadbeef, 0, 0, 0xdeadbeef};
    runner_->upload(step, header, sizeof header);
    runner_->upload(step, words.data(), sizeof words, kParams * 4);
    for (const vk::DrawPush& pass : vk::draw_passes(n, n, kParams, groups, params.top_k > 0, params.top_p < 1.0f))
      runner_->dispatch(p, {&logits, &step, &draw}, &pass, sizeof pass, vk::draw_pass_groups(pass));
    std::uint32_t back[5] = {};
    runner_->download(step, back, sizeof back);
    return {back[1], back[4]};
  }

 private slots:
  void initTestCase() {
    const vk::PhysicalDevice pd = open_device();
    qInfo("device: %s (%s; %s), subgroup arithmetic %s", pd.info.name.c_str(), pd.info.type.c_str(),
          pd.info.driver.c_str(), pd.subgroup_arithmetic ? "yes" : "no");
  }

  void passes_follow_the_filters() {
    // A plain draw: max, mass + 8 digits, pick, finish; each filter adds 9.
    QCOMPARE(vk::draw_passes(100, 0, kParams, 1, false, false).size(), std::size_t{12});
    QCOMPARE(vk::draw_passes(100, 0, kParams, 1, true, false).size(), std::size_t{21});
    QCOMPARE(vk::draw_passes(100, 0, kParams, 1, true, true).size(), std::size_t{vk::kMaxDrawDispatches});
    const auto passes = vk::draw_passes(100, 0, kParams, 5, false, true);
    for (std::size_t i = 1; i < passes.size(); ++i) {
      QCOMPARE(passes[i].pass_index, static_cast<std::uint32_t>(i));
      QCOMPARE(passes[i].prev_kind, passes[i - 1].kind);  // each pass settles the one before it
      QCOMPARE(passes[i].prev_shift, passes[i - 1].shift);
      QCOMPARE(vk::draw_pass_groups(passes[i]).x, i + 1 == passes.size() ? 1u : 5u);
    }
    QCOMPARE(vk::draw_groups(201088, 128), vk::kMaxDrawGroups);
    QCOMPARE(vk::draw_groups(300, 128), 3u);
    QCOMPARE(vk::draw_groups(1, 128), 1u);
  }

  void draw_follows_the_host_sampler_data() {
    QTest::addColumn<int>("vocab");
    QTest::addColumn<int>("bad");
    QTest::addColumn<float>("temperature");
    QTest::addColumn<int>("top_k");
    QTest::addColumn<float>("top_p");
    QTest::addColumn<float>("min_p");
    QTest::newRow("one token") << 1 << 0 << 1.0f << 0 << 1.0f << 0.0f;
    QTest::newRow("300, plain") << 300 << 3 << 1.0f << 0 << 1.0f << 0.0f;
    QTest::newRow("300, top-k over the row") << 300 << 0 << 1.0f << 500 << 1.0f << 0.0f;
    QTest::newRow("300, no finite logit") << 300 << 300 << 1.0f << 0 << 1.0f << 0.0f;
    QTest::newRow("gpt-oss vocab, plain") << 201088 << 6 << 1.0f << 0 << 1.0f << 0.0f;
    QTest::newRow("gpt-oss vocab, hot") << 201088 << 0 << 2.5f << 0 << 1.0f << 0.0f;
    QTest::newRow("gpt-oss vocab, top-k 40, cool") << 201088 << 0 << 0.3f << 40 << 1.0f << 0.0f;
    QTest::newRow("gpt-oss vocab, top-p 0.9") << 201088 << 0 << 1.0f << 0 << 0.9f << 0.0f;
    QTest::newRow("gpt-oss vocab, min-p 0.05") << 201088 << 0 << 0.5f << 0 << 1.0f << 0.05f;
    QTest::newRow("gpt-oss vocab, all filters") << 201088 << 3 << 0.8f << 100 << 0.8f << 0.02f;
    QTest::newRow("gpt-oss vocab, top-k 1") << 201088 << 0 << 1.0f << 1 << 1.0f << 0.0f;
  }

  void draw_follows_the_host_sampler() {
    QFETCH(int, vocab);
    QFETCH(int, bad);
    QFETCH(float, temperature);
    QFETCH(int, top_k);
    QFETCH(float, top_p);
    QFETCH(float, min_p);
    const std::size_t V = static_cast<std::size_t>(vocab);
    std::mt19937 rng(static_cast<unsigned>(vocab + bad + top_k));
    // Row 0 is another row: the draw must read only the row at its offset.
    std::vector<float> rows = test::distinct_logits(V, 0, rng);
    std::vector<float> row = test::distinct_logits(V, static_cast<std::size_t>(bad), rng);
    // With no finite logit the host falls back to its argmax, which is id 0
    // only when nothing compares greater: all NaN (an infinity would win there).
    if (bad == vocab) std::fill(row.begin(), row.end(), std::numeric_limits<float>::quiet_NaN());
    rows.insert(rows.end(), row.begin(), row.end());
    SamplingParams params;
    params.temperature = temperature;
    params.top_k = top_k;
    params.top_p = top_p;
    params.min_p = min_p;

    const std::uint32_t wg = device_->workgroup_size(vk::kDrawWorkgroupSize);
    const std::uint32_t groups = vk::draw_groups(static_cast<std::uint32_t>(V), wg);
    vk::Buffer logits = device_buffer(rows.data(), rows.size() * 4);
    vk::Buffer step(*device_, (kParams + 8) * 4, vk::MemoryKind::DeviceLocal);
    vk::Buffer draw(*device_, vk::draw_scratch_bytes(), vk::MemoryKind::DeviceLocal);
    constexpr int kDraws = 8;
    for (const bool subgroup : {false, true}) {
      auto p = pipeline("sample", 3, sizeof(vk::DrawPush), {wg}, subgroup);
      if (!p) continue;  // no subgroup arithmetic on this device
      SamplerState device_state(99), host_state(99);
      std::vector<std::pair<float, TokenId>> scratch;
      std::set<TokenId> seen;
      for (int d = 0; d < kDraws; ++d) {
        const float u = static_cast<float>(device_state.next_unit());
        const auto [picked, next] = device_draw(*p, logits, step, draw, static_cast<std::uint32_t>(V), groups, params, u);
        std::vector<float> copy = row;
        const TokenId want = sample_token(copy, params, host_state, scratch);
        QVERIFY2(static_cast<TokenId>(picked) == want,
                 qPrintable(QString("%1, draw %2 (u %3): device %4, host %5")
                                .arg(QString::fromStdString(p->module_name())).arg(d).arg(static_cast<double>(u))
                                .arg(picked).arg(want)));
        QCOMPARE(next, picked);  // the next decode step's token
        seen.insert(want);
      }
      // u = 0 (which the generator can return): the host walks to the first
      // token, the most likely; only a strict > at the crossing finds it.
      QCOMPARE(device_draw(*p, logits, step, draw, static_cast<std::uint32_t>(V), groups, params, 0.0f).first,
               static_cast<std::uint32_t>(test::most_likely_finite(row)));
      qInfo("%s over %zu logits in %u groups: %d draws, %zu distinct ids, all equal to the host sampler's",
            p->module_name().c_str(), V, groups, kDraws, seen.size());
      if (V > 1 && top_k != 1 && bad < vocab) QVERIFY(seen.size() > 1);  // a real draw, not the argmax
    }
  }

  void argmax_keeps_the_lowest_id_data() {
    QTest::addColumn<int>("vocab");
    QTest::addColumn<int>("per_group");
    QTest::newRow("one group") << 1000 << 4096;
    QTest::newRow("gpt-oss vocab, 50 groups") << 201088 << 4096;
    QTest::newRow("groups of 7") << 1001 << 7;
  }

  void argmax_keeps_the_lowest_id() {
    QFETCH(int, vocab);
    QFETCH(int, per_group);
    const std::size_t V = static_cast<std::size_t>(vocab);
    const std::uint32_t n = static_cast<std::uint32_t>(vocab), per = static_cast<std::uint32_t>(per_group);
    const std::uint32_t groups = vk::div_up(n, per);
    std::mt19937 rng(static_cast<unsigned>(vocab + per_group));
    std::vector<float> row = test::distinct_logits(V, 0, rng);
    // The maximum three times, in the last group, the middle and the first
    // (the lowest wins), a NaN above all of them, and -inf.
    const float top = 100.0f;
    const std::size_t ids[] = {V - 1, V / 2, V / 3};
    for (const std::size_t i : ids) row[i] = top;
    row[0] = std::numeric_limits<float>::quiet_NaN();
    row[1] = -std::numeric_limits<float>::infinity();
    const std::uint32_t want = static_cast<std::uint32_t>(V / 3);
    vk::Buffer logits = device_buffer(row.data(), row.size() * 4);
    vk::Buffer partial(*device_, std::uint64_t{groups} * 8, vk::MemoryKind::DeviceLocal);
    vk::Buffer step(*device_, 8 * 4, vk::MemoryKind::DeviceLocal);
    const std::uint32_t wg = device_->workgroup_size(256);
    for (const bool subgroup : {false, true}) {
      auto first = pipeline("argmax", 3, sizeof(vk::ArgmaxPush), {wg, 0}, subgroup);
      auto second = pipeline("argmax", 3, sizeof(vk::ArgmaxPush), {wg, 1}, subgroup);
      if (!first || !second) continue;
      const std::uint32_t header[5] = {0, 0xdeadbeef, 0, 0, 0xdeadbeef};
      runner_->upload(step, header, sizeof header);
      const vk::ArgmaxPush a{n, per, 0}, b{groups, 0, 0};
      runner_->dispatch(*first, {&logits, &partial, &step}, &a, sizeof a, {groups, 1, 1});
      runner_->dispatch(*second, {&logits, &partial, &step}, &b, sizeof b, {1, 1, 1});
      std::uint32_t back[5] = {};
      runner_->download(step, back, sizeof back);
      QCOMPARE(back[1], want);
      QCOMPARE(back[4], want);
    }
  }

  void cleanupTestCase() {
    runner_.reset();
    device_.reset();
    instance_.reset();
  }
};

int main(int argc, char** argv) {
  TestVulkanSampling t;
  return vk_test::run_vulkan_test(t, argc, argv);
}

#include "test_vulkan_sampling.moc"

// Runs a backend the way the golden tests compare it: every position's logits
// of one forward pass, and the greedy continuation through the runtime's
// generator; the GPU criterion of ../shared/golden/README.md; and the decode
// and device-sampling checks every GPU backend's model test runs. Tests that
// use greedy() link oss_runtime; the checks need Qt (QString).
#pragma once

#include <QString>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <set>
#include <span>
#include <vector>

#include "backends/backend.h"
#include "golden_fixture.h"
#include "runtime/generator.h"

namespace ossdesk::test {

inline std::vector<float> all_logits(Backend& b, const std::vector<int>& tokens) {
  std::vector<float> out(tokens.size() * static_cast<std::size_t>(b.vocab_size()));
  b.forward(tokens, LogitsMode::All, out.data());
  return out;
}

inline std::vector<int> greedy(Backend& b, const std::vector<int>& prompt, int n) {
  KvSequence seq(b);
  GenerationRequest req;
  req.prompt = prompt;
  req.max_tokens = n;
  req.sampling.temperature = 0;
  return generate(seq, req, nullptr).tokens;
}

// The greedy continuation of g's prompt has g.greedy's length and matches its
// first `must_match` tokens (-1: all of them). Returns an empty string when so.
inline QString check_greedy_continuation(Backend& b, const GoldenFixture& g, int must_match) {
  if (must_match < 0) must_match = static_cast<int>(g.greedy.size());
  const std::size_t n = g.greedy.size();
  if (must_match > static_cast<int>(n)) return QString("must_match %1 > %2 reference tokens").arg(must_match).arg(n);
  const std::vector<int> got = greedy(b, g.tokens, static_cast<int>(n));
  if (got.size() != n) return QString("%1 tokens, the reference has %2").arg(got.size()).arg(n);
  for (std::size_t i = 0; i < static_cast<std::size_t>(must_match); ++i)
    if (got[i] != g.greedy[i]) return QString("token %1: %2, the reference has %3").arg(i).arg(got[i]).arg(g.greedy[i]);
  return {};
}

constexpr float kGpuTolerance = 0.03f;
constexpr float kTopMargin = 0.05f;

// The GPU criterion over [rows x vocab] logits: max |diff| below 0.03, and the
// same top-1 wherever the reference's top-1/top-2 margin exceeds 0.05.
// Returns an empty string when met.
inline QString gpu_criterion(const std::vector<float>& got, const std::vector<float>& ref, std::size_t vocab,
                             float* max_diff) {
  const std::size_t rows = ref.size() / vocab;
  *max_diff = max_abs_diff(got.data(), ref.data(), ref.size());
  if (!(*max_diff < kGpuTolerance)) return QString("max |diff| %1").arg(*max_diff);
  for (std::size_t r = 0; r < rows; ++r) {
    const float* a = ref.data() + r * vocab;
    const float* b = got.data() + r * vocab;
    const std::size_t top = static_cast<std::size_t>(std::max_element(a, a + vocab) - a);
    float second = -1e30f;
    for (std::size_t i = 0; i < vocab; ++i)
      if (i != top) second = std::max(second, a[i]);
    if (a[top] - second > kTopMargin && static_cast<std::size_t>(std::max_element(b, b + vocab) - b) != top)
      return QString("position %1: top-1 differs with a margin of %2").arg(r).arg(a[top] - second);
  }
  return {};
}

// Prefills g.tokens[0..split) on both backends, then decodes the rest one
// token at a time: `decoder`'s logits meet the GPU criterion against the
// reference at every step, and `picker`'s device argmax picks their argmax.
// Returns the first failure, empty when all held; *worst gets the largest diff.
inline QString check_decode_against_reference(Backend& decoder, Backend& picker, const GoldenFixture& g, std::size_t split,
                                              float* worst) {
  const std::size_t V = static_cast<std::size_t>(g.vocab);
  decoder.forward(std::span<const int>(g.tokens).first(split), LogitsMode::None, nullptr);
  picker.forward(std::span<const int>(g.tokens).first(split), LogitsMode::None, nullptr);
  std::vector<float> step(V);
  SamplingParams greedy_params;
  greedy_params.temperature = 0;
  SamplerState state;
  *worst = 0;
  for (std::size_t t = split; t < g.tokens.size(); ++t) {
    decoder.forward(std::span<const int>(&g.tokens[t], 1), LogitsMode::Last, step.data());
    const std::vector<float> ref(g.logits.begin() + static_cast<std::ptrdiff_t>(t * V),
                                 g.logits.begin() + static_cast<std::ptrdiff_t>((t + 1) * V));
    float diff = 0;
    const QString why = gpu_criterion(step, ref, V, &diff);
    *worst = std::max(*worst, diff);
    if (!why.isEmpty()) return QString("position %1: %2").arg(t).arg(why);
    const TokenId id = picker.forward_and_sample(std::span<const int>(&g.tokens[t], 1), greedy_params, state);
    if (id != argmax(step)) return QString("position %1: device argmax %2, logits' argmax %3").arg(t).arg(id).arg(argmax(step));
  }
  return {};
}

// The filter sets every GPU backend's device sampler is checked with, as the
// rows of a data function (columns temperature, top_k, top_p, min_p): each
// filter alone, all of them at once, and a temperature high enough to make
// the tail matter.
inline void add_sampling_rows() {
  QTest::addColumn<float>("temperature");
  QTest::addColumn<int>("top_k");
  QTest::addColumn<float>("top_p");
  QTest::addColumn<float>("min_p");
  QTest::newRow("full vocabulary") << 1.0f << 0 << 1.0f << 0.0f;
  QTest::newRow("hot") << 2.5f << 0 << 1.0f << 0.0f;
  QTest::newRow("top-k 40, cool") << 0.7f << 40 << 1.0f << 0.0f;
  QTest::newRow("top-p 0.9") << 1.3f << 0 << 0.9f << 0.0f;
  QTest::newRow("min-p 0.05") << 1.0f << 0 << 1.0f << 0.05f;
  QTest::newRow("all filters") << 0.8f << 100 << 0.8f << 0.02f;
  QTest::newRow("top-k 1") << 1.0f << 1 << 1.0f << 0.0f;
}

// The current row's filters, in a test function whose data function called
// add_sampling_rows().
inline SamplingParams fetch_sampling_params() {
  QFETCH(float, temperature);
  QFETCH(int, top_k);
  QFETCH(float, top_p);
  QFETCH(float, min_p);
  SamplingParams params;
  params.temperature = temperature;
  params.top_k = top_k;
  params.top_p = top_p;
  params.min_p = min_p;
  return params;
}

// `draws` device draws with `params` against sample_token on the same logits
// and the same seed. The logits are those of the last token's decode step,
// replayed after a truncate (the same work, so bit-identical); each draw takes
// one uniform from its state. The draws must also be real ones: more than one
// id over the draws, except under top-k 1, where only the argmax may come.
// Returns the first failure, empty when every draw matched; *distinct gets how
// many different ids were drawn.
inline QString check_device_sampling(Backend& b, const GoldenFixture& g, const SamplingParams& params, std::uint64_t seed,
                                     int draws, std::size_t* distinct) {
  const int n = static_cast<int>(g.tokens.size());
  const std::span<const int> last(&g.tokens[static_cast<std::size_t>(n - 1)], 1);
  b.forward(std::span<const int>(g.tokens).first(static_cast<std::size_t>(n - 1)), LogitsMode::None, nullptr);
  std::vector<float> logits(static_cast<std::size_t>(g.vocab));
  b.forward(last, LogitsMode::Last, logits.data());
  SamplerState device_state(seed), host_state(seed);
  std::vector<std::pair<float, TokenId>> scratch;
  std::set<TokenId> seen;
  for (int i = 0; i < draws; ++i) {
    const int kept = b.truncate(n - 1);
    if (kept != n - 1) return QString("draw %1: truncate kept %2 of %3").arg(i).arg(kept).arg(n - 1);
    const TokenId got = b.forward_and_sample(last, params, device_state);
    std::vector<float> copy = logits;
    const TokenId want = sample_token(copy, params, host_state, scratch);
    if (got != want) return QString("draw %1: device %2, host %3").arg(i).arg(got).arg(want);
    seen.insert(got);
  }
  *distinct = seen.size();
  if (params.top_k == 1 && seen.size() != 1) return QString("top-k 1 drew %1 different ids").arg(seen.size());
  if (params.top_k != 1 && seen.size() < 2) return QString("%1 draws all gave id %2: the argmax, not a draw").arg(draws).arg(*seen.begin());
  return {};
}

}  // namespace ossdesk::test

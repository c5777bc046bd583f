// The host sampler: greedy and its ties, each filter on its own, seeds, and
// that draws follow the softmax.
#include <QtTest>
#include <cmath>

#include "backends/sampling.h"

using namespace ossdesk;

class TestSampling : public QObject {
  Q_OBJECT

  std::vector<std::pair<float, TokenId>> scratch_;

  TokenId draw(std::vector<float> logits, SamplingParams p, SamplerState& s) { return sample_token(logits, p, s, scratch_); }

 private slots:
  void greedy_is_argmax_lowest_id_on_tie() {
    SamplerState s(1);
    QCOMPARE(draw({0.1f, 2.0f, 2.0f, -1.0f}, {0.0f, 0, 1.0f, 0.0f, 0}, s), 1);
    QCOMPARE(argmax(std::vector<float>{3, 1, 3}), 0);
  }

  void top_k_one_and_min_p_one_are_greedy() {
    SamplerState s(2);
    const std::vector<float> logits = {0.5f, 0.1f, 0.9f, 0.89f};
    for (int i = 0; i < 50; ++i) {
      QCOMPARE(draw(logits, {1.0f, 1, 1.0f, 0.0f, 0}, s), 2);
      QCOMPARE(draw(logits, {1.0f, 0, 1.0f, 1.0f, 0}, s), 2);
      QCOMPARE(draw(logits, {1.0f, 0, 1e-6f, 0.0f, 0}, s), 2);
    }
  }

  void top_k_limits_the_candidates() {
    SamplerState s(3);
    const std::vector<float> logits = {1.0f, 1.0f, 1.0f, 0.0f, 5.0f};
    for (int i = 0; i < 200; ++i) {
      const TokenId t = draw(logits, {10.0f, 2, 1.0f, 0.0f, 0}, s);
      QVERIFY(t == 4 || t == 0);  // the two best; 0 wins the tie among the 1.0s
    }
  }

  void same_seed_same_draws() {
    SamplerState a(99), b(99), c(100);
    const std::vector<float> logits(1000, 0.0f);
    std::vector<TokenId> ra, rb, rc;
    for (int i = 0; i < 20; ++i) {
      ra.push_back(draw(logits, {1.0f, 0, 1.0f, 0.0f, 0}, a));
      rb.push_back(draw(logits, {1.0f, 0, 1.0f, 0.0f, 0}, b));
      rc.push_back(draw(logits, {1.0f, 0, 1.0f, 0.0f, 0}, c));
    }
    QCOMPARE(ra, rb);
    QVERIFY(ra != rc);
  }

  // log(1), log(2), log(3), log(4): probabilities .1 .2 .3 .4.
  void draws_follow_the_softmax() {
    SamplerState s(5);
    const std::vector<float> logits = {0.0f, std::log(2.0f), std::log(3.0f), std::log(4.0f)};
    int counts[4] = {};
    const int n = 40000;
    for (int i = 0; i < n; ++i) ++counts[draw(logits, {1.0f, 0, 1.0f, 0.0f, 0}, s)];
    for (int k = 0; k < 4; ++k) {
      const double expected = n * (k + 1) / 10.0;
      QVERIFY2(std::abs(counts[k] - expected) < 5 * std::sqrt(expected), qPrintable(QString("token %1: %2").arg(k).arg(counts[k])));
    }
    // top_p 0.5 keeps .4 and .3 (cumulative .7 >= .5), renormalised to 4:3.
    int top_p_counts[4] = {};
    for (int i = 0; i < n; ++i) ++top_p_counts[draw(logits, {1.0f, 0, 0.5f, 0.0f, 0}, s)];
    QCOMPARE(top_p_counts[0] + top_p_counts[1], 0);
    QVERIFY(std::abs(top_p_counts[3] / double(n) - 4.0 / 7.0) < 0.02);
  }
};

QTEST_APPLESS_MAIN(TestSampling)
#include "test_sampling.moc"

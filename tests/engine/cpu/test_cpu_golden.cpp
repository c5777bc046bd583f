// The CPU backend against the official reference (tests/data/golden):
// logits within 1e-3 at every position, the same greedy continuation, and the
// same answers however the work is split (chunked prefill, decode after
// prefill, rollback and reuse of the KV cache) and whichever kernels run.
#include <QtTest>
#include <cstdlib>

#include "backends/backend.h"
#include "backends/cpu/kernels.h"
#include "backend_runs.h"
#include "golden_fixture.h"
#include "model/convert.h"
#include "ossdesk/error.h"
#include "model/model.h"

using namespace ossdesk;

namespace {

constexpr float kCpuTolerance = 1e-3f;

std::unique_ptr<Backend> cpu_backend(const Model& m, int max_batch = 512, int context = 512, bool portable = false,
                                     int threads = 0) {
  BackendOptions o;
  o.cpu_portable_kernels = portable;
  o.threads = threads;
  o.context_length = context;
  o.max_batch = max_batch;
  return create_backend("cpu", m, o, {});
}

using test::all_logits;
using test::greedy;

}  // namespace

class TestCpuGolden : public QObject {
  Q_OBJECT

 private slots:
  void logits_match_reference_data() {
    QTest::addColumn<QString>("fixture");
    QTest::addColumn<int>("max_batch");
    QTest::addColumn<QString>("kernels");
    QTest::addColumn<int>("threads");
    for (const char* f : {"tiny-a", "tiny-b"}) {
      QTest::newRow(qPrintable(QString("%1 one batch").arg(f))) << f << 512 << "auto" << 0;
      QTest::newRow(qPrintable(QString("%1 batches of 7").arg(f))) << f << 7 << "auto" << 0;
      QTest::newRow(qPrintable(QString("%1 default batch (0)").arg(f))) << f << 0 << "auto" << 0;
      QTest::newRow(qPrintable(QString("%1 portable kernels").arg(f))) << f << 512 << "portable" << 0;
    }
    // One token per step with more threads than kv heads: attention splits a
    // kv head's query heads over work items (tiny-a: 2 of its 4 per item;
    // tiny-b: 1 of its 3).
    QTest::newRow("tiny-a one token at a time, 3 threads") << "tiny-a" << 1 << "auto" << 3;
    QTest::newRow("tiny-b one token at a time, 5 threads") << "tiny-b" << 1 << "auto" << 5;
  }
  void logits_match_reference() {
    QFETCH(QString, fixture);
    QFETCH(int, max_batch);
    QFETCH(QString, kernels);
    QFETCH(int, threads);
    const test::GoldenFixture g = test::load_golden(fixture.toStdString());
    auto model = Model::open(g.dir);
    auto backend = cpu_backend(*model, max_batch, 512, kernels == "portable", threads);
    const auto logits = all_logits(*backend, g.tokens);
    QCOMPARE(logits.size(), g.logits.size());
    const float diff = test::max_abs_diff(logits.data(), g.logits.data(), logits.size());
    qInfo("%s: max |logit - reference| = %g", qPrintable(fixture), diff);
    QVERIFY2(diff < kCpuTolerance, qPrintable(QString("max diff %1").arg(diff)));
  }

  void greedy_continuation_matches_data() {
    QTest::addColumn<QString>("fixture");
    QTest::newRow("tiny-a") << "tiny-a";
    QTest::newRow("tiny-b") << "tiny-b";
  }
  void greedy_continuation_matches() {
    QFETCH(QString, fixture);
    const test::GoldenFixture g = test::load_golden(fixture.toStdString());
    auto model = Model::open(g.dir);
    auto backend = cpu_backend(*model);
    QCOMPARE(greedy(*backend, g.tokens, static_cast<int>(g.greedy.size())), g.greedy);
  }

  // Decoding one token at a time after a prefill gives the logits a full
  // recompute gives.
  void decode_after_prefill_matches_recompute() {
    const test::GoldenFixture g = test::load_golden("tiny-b");
    auto model = Model::open(g.dir);
    auto backend = cpu_backend(*model);
    const std::size_t V = static_cast<std::size_t>(g.vocab);
    const std::size_t split = 50;
    backend->forward(std::span<const int>(g.tokens).first(split), LogitsMode::None, nullptr);
    std::vector<float> step(V);
    for (std::size_t t = split; t < g.tokens.size(); ++t) {
      backend->forward(std::span<const int>(&g.tokens[t], 1), LogitsMode::Last, step.data());
      const float diff = test::max_abs_diff(step.data(), g.logits.data() + t * V, V);
      QVERIFY2(diff < kCpuTolerance, qPrintable(QString("position %1: diff %2").arg(t).arg(diff)));
    }
  }

  // Rolling the KV cache back and re-feeding gives the same logits; a rollback
  // past what the sliding-window ring holds is refused (fewer tokens kept)
  // unless a checkpoint covers it.
  void truncate_and_checkpoint() {
    const test::GoldenFixture g = test::load_golden("tiny-b");  // window 16
    auto model = Model::open(g.dir);
    auto backend = cpu_backend(*model, /*max_batch=*/8, /*context=*/512);  // ring of 24 positions
    const std::size_t V = static_cast<std::size_t>(g.vocab);
    std::vector<float> last(V);
    auto feed_from = [&](int from) {
      backend->forward(std::span<const int>(g.tokens).subspan(from), LogitsMode::Last, last.data());
      return test::max_abs_diff(last.data(), g.logits.data() + (g.tokens.size() - 1) * V, V);
    };
    backend->forward(std::span<const int>(g.tokens).first(100), LogitsMode::None, nullptr);
    backend->checkpoint();
    backend->forward(std::span<const int>(g.tokens).subspan(100, 40), LogitsMode::None, nullptr);
    // Back to the checkpoint: 40 tokens later the ring has wrapped, only the checkpoint makes this possible.
    QCOMPARE(backend->truncate(100), 100);
    QVERIFY(feed_from(100) < kCpuTolerance);
    // Back to 60: neither the ring nor the checkpoint (which is past it) hold that window.
    const int kept = backend->truncate(60);
    QVERIFY(kept < 60);
    QCOMPARE(backend->position(), kept);
    QVERIFY(feed_from(kept) < kCpuTolerance);
    // A short rollback inside the ring works without a checkpoint.
    QCOMPARE(backend->truncate(static_cast<int>(g.tokens.size()) - 3), static_cast<int>(g.tokens.size()) - 3);
    QVERIFY(feed_from(static_cast<int>(g.tokens.size()) - 3) < kCpuTolerance);
  }

  // The same weights converted to GGUF (experts repacked to ggml MXFP4,
  // BF16 kept) give the reference logits too.
  void converted_gguf_matches_reference() {
    for (const char* name : {"tiny-a", "tiny-b"}) {
      const test::GoldenFixture g = test::load_golden(name);
      auto hf = Model::open(g.dir);
      const std::string out = std::string(OSSDESK_TEST_WORK_DIR) + "/" + name + "-converted.gguf";
      convert_to_gguf(*hf, out);
      auto gguf = Model::open(out);
      QCOMPARE(gguf->format(), ModelFormat::Gguf);
      QCOMPARE(gguf->weights().layers[0].gate.first.format, WeightFormat::MXFP4_GGML);
      auto backend = cpu_backend(*gguf);
      const auto logits = all_logits(*backend, g.tokens);
      const float diff = test::max_abs_diff(logits.data(), g.logits.data(), logits.size());
      qInfo("%s as GGUF: max |logit - reference| = %g", name, diff);
      QVERIFY(diff < kCpuTolerance);
      auto b2 = cpu_backend(*gguf);
      QCOMPARE(greedy(*b2, g.tokens, static_cast<int>(g.greedy.size())), g.greedy);
    }
  }

  void rejects_tokens_outside_vocabulary_and_context() {
    const test::GoldenFixture g = test::load_golden("tiny-a");
    auto model = Model::open(g.dir);
    auto backend = cpu_backend(*model, 512, 16);
    const std::vector<int> bad = {1, 2, g.vocab};
    QVERIFY_THROWS_EXCEPTION(Error, backend->forward(bad, LogitsMode::None, nullptr));
    QCOMPARE(backend->position(), 0);
    const std::vector<int> too_long(17, 1);
    QVERIFY_THROWS_EXCEPTION(Error, backend->forward(too_long, LogitsMode::None, nullptr));
  }
};

QTEST_APPLESS_MAIN(TestCpuGolden)
#include "test_cpu_golden.moc"

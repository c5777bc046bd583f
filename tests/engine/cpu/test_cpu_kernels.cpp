// The AVX2 and AVX-512 kernels against the portable ones for every weight
// format, on random rows whose widths are not multiples of the vector width
// (where the format allows), and the portable ones against a plain
// dequantize-then-sum; the attention kernels of every set against a double
// reference. Kernel sets this CPU lacks are skipped with a note.
#include <QtTest>
#include <limits>
#include <random>

#include "backends/cpu/kernels.h"
#include "util/half.h"

using namespace ossdesk;
using namespace ossdesk::cpu;

namespace {

struct RandomMatrix {
  std::vector<std::uint8_t> data, scales;
  MatrixView view;
};

RandomMatrix make(WeightFormat f, std::int64_t rows, std::int64_t cols, std::mt19937& rng) {
  RandomMatrix m;
  m.view.format = f;
  m.view.rows = rows;
  m.view.cols = cols;
  m.view.row_stride = m.view.bytes_per_row();
  if (f == WeightFormat::MXFP4_HF) m.view.row_stride = static_cast<std::uint64_t>(cols / 32 * 16);
  m.data.resize(m.view.row_stride * rows);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  std::uniform_int_distribution<int> byte(0, 255), exponent(118, 130);
  for (std::int64_t r = 0; r < rows; ++r) {
    std::uint8_t* p = m.data.data() + r * m.view.row_stride;
    for (std::int64_t c = 0; c < cols; ++c) {
      switch (f) {
        case WeightFormat::F32: {
          float v = u(rng);
          std::memcpy(p + 4 * c, &v, 4);
          break;
        }
        case WeightFormat::F16: {
          auto h = f32_to_f16(u(rng));
          std::memcpy(p + 2 * c, &h, 2);
          break;
        }
        case WeightFormat::BF16: {
          auto h = f32_to_bf16(u(rng));
          std::memcpy(p + 2 * c, &h, 2);
          break;
        }
        default: break;
      }
    }
    if (f == WeightFormat::Q8_0) {
      for (std::int64_t b = 0; b < cols / 32; ++b) {
        auto d = f32_to_f16(u(rng) * 0.01f);
        std::memcpy(p + b * 34, &d, 2);
        for (int j = 0; j < 32; ++j) p[b * 34 + 2 + j] = static_cast<std::uint8_t>(byte(rng));
      }
    } else if (f == WeightFormat::MXFP4_GGML) {
      for (std::int64_t b = 0; b < cols / 32; ++b) {
        p[b * 17] = static_cast<std::uint8_t>(exponent(rng));
        for (int j = 0; j < 16; ++j) p[b * 17 + 1 + j] = static_cast<std::uint8_t>(byte(rng));
      }
    } else if (f == WeightFormat::MXFP4_HF) {
      for (std::uint64_t i = 0; i < m.view.row_stride; ++i) p[i] = static_cast<std::uint8_t>(byte(rng));
    }
  }
  if (f == WeightFormat::MXFP4_HF) {
    m.view.scale_row_stride = static_cast<std::uint64_t>(cols / 32);
    m.scales.resize(m.view.scale_row_stride * rows);
    for (auto& s : m.scales) s = static_cast<std::uint8_t>(exponent(rng));
    m.view.scales = m.scales.data();
  }
  m.view.data = m.data.data();
  return m;
}

// The sets besides the portable one that this CPU runs; a note for each it lacks.
std::vector<const Kernels*> fast_kernels() {
  std::vector<const Kernels*> sets;
  for (auto [name, k] : {std::pair{"AVX2", avx2_kernels()}, std::pair{"AVX-512", avx512_kernels()}}) {
    if (k)
      sets.push_back(k);
    else
      qInfo("no %s kernels on this CPU: not checked", name);
  }
  return sets;
}

std::vector<const Kernels*> all_kernels() {
  std::vector<const Kernels*> sets = fast_kernels();
  sets.insert(sets.begin(), &portable_kernels());
  return sets;
}

}  // namespace

class TestCpuKernels : public QObject {
  Q_OBJECT

 private slots:
  void formats_agree_data() {
    QTest::addColumn<int>("format");
    QTest::addColumn<int>("cols");
    const char* names[] = {"F32", "F16", "BF16", "Q8_0", "MXFP4_HF", "MXFP4_GGML"};
    for (int f = 0; f < 6; ++f) {
      const bool blocked = f >= 3;
      for (int cols : {32, 64, 2880, 96 + 32 * 3}) QTest::newRow(qPrintable(QString("%1 x%2").arg(names[f]).arg(cols))) << f << cols;
      if (!blocked)
        for (int cols : {1, 7, 13, 45, 1000}) QTest::newRow(qPrintable(QString("%1 x%2").arg(names[f]).arg(cols))) << f << cols;
    }
  }
  void formats_agree() {
    QFETCH(int, format);
    QFETCH(int, cols);
    std::mt19937 rng(1234 + format * 7 + cols);
    const RandomMatrix m = make(static_cast<WeightFormat>(format), 5, cols, rng);
    std::vector<float> x(static_cast<std::size_t>(cols));
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (auto& v : x) v = u(rng);
    const Kernels& portable = portable_kernels();
    std::vector<float> row(static_cast<std::size_t>(cols)), row_fast(static_cast<std::size_t>(cols));
    for (std::int64_t r = 0; r < m.view.rows; ++r) {
      portable.dequant_row(m.view, r, row.data());
      double reference = 0;
      double magnitude = 0;
      for (int c = 0; c < cols; ++c) {
        reference += static_cast<double>(row[c]) * x[c];
        magnitude += std::abs(static_cast<double>(row[c]) * x[c]);
      }
      const double tol = 1e-5 * magnitude + 1e-6;
      QVERIFY2(std::abs(portable.dot_row(m.view, r, x.data()) - reference) <= tol, "portable dot");
      for (const Kernels* fast : fast_kernels()) {
        fast->dequant_row(m.view, r, row_fast.data());
        // Equal values (the FP4 code for -0 may come out as +0: same number).
        for (int c = 0; c < cols; ++c)
          QVERIFY2(row[c] == row_fast[c], qPrintable(QString("%1 dequantizes column %2 differently").arg(fast->name).arg(c)));
        const double got = fast->dot_row(m.view, r, x.data());
        QVERIFY2(std::abs(got - reference) <= tol, qPrintable(QString("%1 dot %2 vs %3").arg(fast->name).arg(got).arg(reference)));
      }
    }
  }

  // The choice: the fastest set this CPU has, as capped by
  // OSSDESK_CPU_KERNELS. The variable is read once per process, so the capped
  // choices are checked by running this function again in a child process.
  void the_fastest_set_is_chosen() {
    const QString cap = qEnvironmentVariable("OSSDESK_CPU_KERNELS");
    const Kernels* expected = &portable_kernels();
    if (cap != "portable" && avx2_kernels()) expected = avx2_kernels();
    if (cap != "portable" && cap != "avx2" && avx512_kernels()) expected = avx512_kernels();
    QCOMPARE(QString(cpu_kernels().name), QString(expected->name));
    if (!cap.isEmpty()) return;  // a child run
    for (const char* capped : {"avx2", "portable"}) {
      QProcess child;
      QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
      env.insert("OSSDESK_CPU_KERNELS", capped);
      child.setProcessEnvironment(env);
      child.setProcessChannelMode(QProcess::MergedChannels);
      child.start(QCoreApplication::applicationFilePath(), {"the_fastest_set_is_chosen"});
      QVERIFY(child.waitForFinished(30000));
      QVERIFY2(child.exitStatus() == QProcess::NormalExit && child.exitCode() == 0,
               qPrintable(QString("capped at %1:\n%2").arg(capped, QString::fromUtf8(child.readAll()))));
    }
  }

  // Four rows in one pass equal four single dot products, for any length.
  void dot4_matches_dot() {
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (int n : {1, 7, 8, 33, 2880}) {
      std::vector<float> rows(static_cast<std::size_t>(4 * n)), x(static_cast<std::size_t>(n));
      for (auto& v : rows) v = u(rng);
      for (auto& v : x) v = u(rng);
      for (const Kernels* k : all_kernels()) {
        float out[4];
        k->dot4_f32(rows.data(), x.data(), n, out);
        for (int r = 0; r < 4; ++r) {
          const float one = k->dot_f32(rows.data() + r * n, x.data(), n);
          QVERIFY2(std::abs(out[r] - one) <= 1e-5f * (1.0f + std::abs(one)), qPrintable(QString("%1: n=%2 row %3").arg(k->name).arg(n).arg(r)));
        }
      }
    }
  }

  // Four rows times three tokens in one pass equal the twelve single dot
  // products, for any length, with the tokens' rows a stride apart.
  void dot4x3_matches_dot() {
    std::mt19937 rng(6);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (int n : {1, 7, 8, 33, 2880}) {
      const int stride = n + 5;
      std::vector<float> rows(static_cast<std::size_t>(4 * n)), x(static_cast<std::size_t>(3 * stride));
      for (auto& v : rows) v = u(rng);
      for (auto& v : x) v = u(rng);
      for (const Kernels* k : all_kernels()) {
        float out[12];
        k->dot4x3_f32(rows.data(), x.data(), stride, n, out);
        for (int t = 0; t < 3; ++t)
          for (int r = 0; r < 4; ++r) {
            const float one = k->dot_f32(rows.data() + r * n, x.data() + t * stride, n);
            QVERIFY2(std::abs(out[t * 4 + r] - one) <= 1e-5f * (1.0f + std::abs(one)),
                     qPrintable(QString("%1: n=%2 token %3 row %4: %5 vs %6").arg(k->name).arg(n).arg(t).arg(r).arg(out[t * 4 + r]).arg(one)));
          }
      }
    }
  }

  // The attention kernels against a double-precision reference, for every
  // GQA group size they take, head sizes that are and are not multiples of
  // the vector width, and key counts around the value loop's block of 64.
  // Key and value rows are strided and given out of order, as a ring gives them.
  void group_attention_data() {
    QTest::addColumn<int>("heads");
    QTest::addColumn<int>("dim");
    QTest::addColumn<int>("n");
    for (int heads : {1, 3, 4, 5, 8})
      for (int dim : {64, 18, 8})
        for (int n : {1, 7, 64, 65, 300}) QTest::newRow(qPrintable(QString("%1 heads x%2, %3 keys").arg(heads).arg(dim).arg(n))) << heads << dim << n;
  }
  void group_attention() {
    QFETCH(int, heads);
    QFETCH(int, dim);
    QFETCH(int, n);
    std::mt19937 rng(heads * 1000 + dim * 10 + n);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    const int stride = dim * 3 + 1;
    std::vector<float> q(static_cast<std::size_t>(heads * dim)), rows(static_cast<std::size_t>(n * stride)),
        p(static_cast<std::size_t>(heads * n));
    for (auto& v : q) v = u(rng);
    for (auto& v : rows) v = u(rng);
    for (auto& v : p) v = (u(rng) + 1.0f) / 2;
    std::vector<const float*> keys(static_cast<std::size_t>(n)), values(static_cast<std::size_t>(n));
    for (int j = 0; j < n; ++j) {
      keys[j] = rows.data() + static_cast<std::size_t>((j + n / 3) % n) * stride;
      values[j] = keys[j] + dim + 1;
    }
    const float scale = 0.125f;
    for (const Kernels* k : all_kernels()) {
      std::vector<float> scores(static_cast<std::size_t>(heads * n), 99.0f), out(static_cast<std::size_t>(heads * dim), 99.0f);
      float max[kMaxGroupHeads];
      const KvRows kv{keys.data(), values.data(), n};
      k->group_scores(q.data(), heads, dim, kv, scale, scores.data(), max);
      k->group_values(p.data(), heads, dim, kv, out.data());
      for (int h = 0; h < heads; ++h) {
        float seen_max = -std::numeric_limits<float>::infinity();
        for (int j = 0; j < n; ++j) {
          double want = 0;
          for (int d = 0; d < dim; ++d) want += static_cast<double>(q[h * dim + d]) * keys[j][d];
          want *= scale;
          const float got = scores[h * n + j];
          QVERIFY2(std::abs(got - want) <= 1e-6 * dim, qPrintable(QString("%1: score h%2 key %3: %4 vs %5").arg(k->name).arg(h).arg(j).arg(got).arg(want)));
          seen_max = std::max(seen_max, got);
        }
        QVERIFY2(max[h] == seen_max, qPrintable(QString("%1: max of head %2").arg(k->name).arg(h)));
        for (int d = 0; d < dim; ++d) {
          double want = 0;
          for (int j = 0; j < n; ++j) want += static_cast<double>(p[h * n + j]) * values[j][d];
          const float got = out[h * dim + d];
          QVERIFY2(std::abs(got - want) <= 1e-6 * n, qPrintable(QString("%1: out h%2 [%3]: %4 vs %5").arg(k->name).arg(h).arg(d).arg(got).arg(want)));
        }
      }
    }
  }

  // exp(x - shift) in place and its sum, against the libm exp, from 0 down
  // past where float underflows, and -inf (a masked score).
  void exp_shifted_sum_is_exp() {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-110.0f, 2.0f);
    for (int n : {1, 7, 8, 9, 1000}) {
      std::vector<float> x(static_cast<std::size_t>(n));
      for (auto& v : x) v = u(rng);
      x[0] = 2.0f;  // e^0 after the shift
      if (n > 3) x[3] = -std::numeric_limits<float>::infinity();
      for (const Kernels* k : all_kernels()) {
        std::vector<float> e = x;
        const double sum = k->exp_shifted_sum(e.data(), n, 2.0f);
        double want_sum = 0;
        for (int i = 0; i < n; ++i) {
          const double want = std::exp(static_cast<double>(x[i] - 2.0f));  // the shift is a float subtraction
          want_sum += want;
          // 3e-7 relative (2 ulp and a little); values below e^-87 may be 0.
          QVERIFY2(std::abs(e[i] - want) <= 3e-7 * want + 2e-38,
                   qPrintable(QString("%1: exp(%2) = %3, not %4").arg(k->name).arg(x[i] - 2.0f).arg(e[i]).arg(want)));
        }
        QVERIFY2(std::abs(sum - want_sum) <= 1e-6 * want_sum, qPrintable(QString("%1: sum %2 vs %3").arg(k->name).arg(sum).arg(want_sum)));
        QCOMPARE(e[0], 1.0f);
      }
    }
  }

  // Known values: E2M1 codes and E8M0 scales decode exactly.
  void mxfp4_known_values() {
    std::uint8_t block[17] = {};
    block[0] = 127;          // scale 1
    block[1] = 0x1F;         // element 0: code 0xF = -6, element 16: code 0x1 = 0.5
    block[2] = 0x72;         // element 1: code 2 = 1.0, element 17: code 7 = 6
    MatrixView v;
    v.format = WeightFormat::MXFP4_GGML;
    v.rows = 1;
    v.cols = 32;
    v.data = block;
    v.row_stride = 17;
    float out[32];
    portable_kernels().dequant_row(v, 0, out);
    QCOMPARE(out[0], -6.0f);
    QCOMPARE(out[16], 0.5f);
    QCOMPARE(out[1], 1.0f);
    QCOMPARE(out[17], 6.0f);
    block[0] = 125;  // scale 1/4
    portable_kernels().dequant_row(v, 0, out);
    QCOMPARE(out[17], 1.5f);
  }
};

QTEST_GUILESS_MAIN(TestCpuKernels)
#include "test_cpu_kernels.moc"

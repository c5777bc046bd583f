// The AVX2 and AVX-512 kernels against the portable ones for every weight
// format, on random rows whose widths are not multiples of the vector width
// (where the format allows), and the portable ones against a plain
// dequantize-then-sum. Kernel sets this CPU lacks are skipped with a note.
#include <QtTest>
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

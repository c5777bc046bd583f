// The AVX2 kernels against the portable ones for every weight format, on
// random rows whose widths are not multiples of the vector width (where the
// format allows), and the portable ones against a plain dequantize-then-sum.
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
    const Kernels* fast = avx2_kernels();
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
      if (!fast) continue;
      fast->dequant_row(m.view, r, row_fast.data());
      // Equal values (the FP4 code for -0 may come out as +0: same number).
      for (int c = 0; c < cols; ++c) QVERIFY2(row[c] == row_fast[c], qPrintable(QString("avx2 dequantizes column %1 differently").arg(c)));
      const double got = fast->dot_row(m.view, r, x.data());
      QVERIFY2(std::abs(got - reference) <= tol, qPrintable(QString("avx2 dot %1 vs %2").arg(got).arg(reference)));
    }
    if (!fast) qInfo("no AVX2 on this CPU: portable kernels only");
  }

  // Four rows in one pass equal four single dot products, for any length.
  void dot4_matches_dot() {
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (int n : {1, 7, 8, 33, 2880}) {
      std::vector<float> rows(static_cast<std::size_t>(4 * n)), x(static_cast<std::size_t>(n));
      for (auto& v : rows) v = u(rng);
      for (auto& v : x) v = u(rng);
      for (const Kernels* k : {&portable_kernels(), avx2_kernels()}) {
        if (!k) continue;
        float out[4];
        k->dot4_f32(rows.data(), x.data(), n, out);
        for (int r = 0; r < 4; ++r) {
          const float one = k->dot_f32(rows.data() + r * n, x.data(), n);
          QVERIFY2(std::abs(out[r] - one) <= 1e-5f * (1.0f + std::abs(one)), qPrintable(QString("%1: n=%2 row %3").arg(k->name).arg(n).arg(r)));
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

QTEST_APPLESS_MAIN(TestCpuKernels)
#include "test_cpu_kernels.moc"

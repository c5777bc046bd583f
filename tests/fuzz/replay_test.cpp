// Runs one fuzz target's harness (compiled into this executable) over its
// starting corpus under CTest, so the harnesses build with the project's own
// compiler and warnings, and their properties (the round trip, the stream
// parser's bookkeeping) hold on real inputs in every CI run. Fuzzing itself is
// run-fuzzers.sh's job (README.md).
//
// A broken property throws fuzz::PropertyFailed here (libFuzzer builds
// abort), so each failing input is reported by name.
#include <QtTest>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace fs = std::filesystem;

class FuzzReplay : public QObject {
  Q_OBJECT

 private slots:
  void replays_the_starting_corpus_data() {
    QTest::addColumn<QString>("path");
    const fs::path dir = fs::path(OSSDESK_FUZZ_SEEDS_DIR) / OSSDESK_FUZZ_TARGET;
    QVERIFY2(fs::is_directory(dir), qPrintable("no corpus at " + QString::fromStdString(dir.string())));
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_regular_file()) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    QVERIFY2(!files.empty(), "the corpus is empty");
    for (const auto& f : files) QTest::newRow(f.filename().string().c_str()) << QString::fromStdString(f.string());
  }

  void replays_the_starting_corpus() {
    QFETCH(QString, path);
    std::ifstream in(path.toStdString(), std::ios::binary);
    const std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    try {
      LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    } catch (const ossdesk::fuzz::PropertyFailed& e) {
      QFAIL(e.what());
    } catch (const std::exception& e) {
      QFAIL(qPrintable(QString("escaped the harness (only ossdesk::Error may refuse input): ") + e.what()));
    }
  }
};

QTEST_APPLESS_MAIN(FuzzReplay)
#include "replay_test.moc"

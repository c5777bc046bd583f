// The CUDA backend's loading path, which runs everywhere the build has CUDA:
// libossdesk_cuda is found and loaded at run time; without an NVIDIA driver or
// GPU (CI) it reports why, `auto` falls back to Vulkan or the CPU saying so,
// and asking for CUDA fails with that reason instead of crashing. On a machine
// with a GPU it lists the devices.
#include <QProcess>
#include <QtTest>

#include "backends/backend.h"
#include "model/model.h"
#include "ossdesk/error.h"
#include "tiny_model.h"

using namespace ossdesk;

class TestCudaLoader : public QObject {
  Q_OBJECT

 private slots:
  void cuda_is_part_of_this_build() {
    const auto names = available_backends();
    QCOMPARE(names.front(), std::string("cuda"));  // preferred first
    QCOMPARE(names.back(), std::string("cpu"));
  }

  void lists_devices_or_says_why_not() {
    std::string why;
    const auto devices = list_devices("cuda", false, &why);
    if (!devices.empty()) {
      for (const DeviceInfo& d : devices) {
        QCOMPARE(d.backend, std::string("cuda"));
        QVERIFY(!d.name.empty());
        QVERIFY(d.memory_bytes > 0);
      }
      qInfo("CUDA devices: %zu, first %s (%s)", devices.size(), devices[0].name.c_str(), devices[0].driver.c_str());
      return;
    }
    qInfo("no CUDA device: %s", why.c_str());
    // The library was found and loaded: the reason comes from the CUDA runtime, not from the loader.
    QVERIFY2(why.find("NVIDIA") != std::string::npos, why.c_str());
    QVERIFY2(why.find("not found") == std::string::npos, why.c_str());
  }

  void without_a_gpu_auto_falls_back_and_cuda_says_why() {
    std::string why;
    if (!list_devices("cuda", false, &why).empty()) QSKIP("this machine has a CUDA GPU");
    auto model = Model::open(test::tiny_chat_model());
    BackendOptions o;
    o.context_length = 64;
    BackendChoice choice;
    auto backend = create_backend("auto", *model, o, {}, &choice);
    QVERIFY(choice.name == "vulkan" || choice.name == "cpu");
    QVERIFY2(choice.reason.find("no CUDA GPU: " + why) != std::string::npos, choice.reason.c_str());
    try {
      create_backend("cuda", *model, o, {});
      QFAIL("the CUDA backend was created without a device");
    } catch (const Error& e) {
      QCOMPARE(e.kind(), ErrorKind::Unsupported);
      QVERIFY2(std::string(e.what()).find("cuda") != std::string::npos, e.what());
    }
  }

  // The library is looked for once per process: a fresh CLI with a wrong
  // OSSDESK_CUDA_LIBRARY shows where it looked, and still answers on the CPU.
  void a_missing_library_is_named_and_the_engine_still_runs() {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("OSSDESK_CUDA_LIBRARY", "/nonexistent/libossdesk_cuda.so");
    p.setProcessEnvironment(env);
    p.start(OSSDESK_CLI_PATH, {"generate", "--model", QString::fromStdString(test::tiny_chat_model()), "--prompt", "Hi",
                               "--max-tokens", "2", "--temperature", "0", "--backend", "auto"});
    QVERIFY(p.waitForFinished(120000));
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QCOMPARE(p.exitCode(), 0);
    QVERIFY2(err.contains("no CUDA GPU: the CUDA backend library was not found (looked for /nonexistent/libossdesk_cuda.so)"),
             qPrintable(err));
  }
};

QTEST_MAIN(TestCudaLoader)
#include "test_cuda_loader.moc"

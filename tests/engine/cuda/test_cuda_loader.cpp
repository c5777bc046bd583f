// The CUDA backend's loading path, which runs everywhere the build has CUDA:
// libossdesk_cuda is found and loaded at run time; without an NVIDIA driver or
// GPU (CI) it reports why, `auto` falls back to Vulkan or the CPU saying so,
// and asking for CUDA fails with that reason instead of crashing. On a machine
// with a GPU it lists the devices.
#include <QProcess>
#include <QtTest>

#include "backends/backend.h"
#include "backends/cuda/cuda_arch.h"
#include "model/model.h"
#include "ossdesk/error.h"
#include "tiny_model.h"

using namespace ossdesk;

#ifdef OSSDESK_CUDA_EMULATED_LIBRARY
constexpr const char* kEmulatedLibrary = OSSDESK_CUDA_EMULATED_LIBRARY;
#else
constexpr const char* kEmulatedLibrary = nullptr;  // a build without the emulator (not Linux x86-64)
#endif

class TestCudaLoader : public QObject {
  Q_OBJECT

  // `ossdesk-cli generate` (a fresh process: the library is looked for once
  // per process) with OSSDESK_CUDA_LIBRARY set to `library` and `env_vars`:
  // its exit code and what it printed on stderr (the backend and why).
  std::pair<int, QString> generate_with(const QString& library, const QString& backend,
                                        const QList<QPair<QString, QString>>& env_vars = {}) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("OSSDESK_CUDA_LIBRARY", library);
    for (const auto& [name, value] : env_vars) env.insert(name, value);
    p.setProcessEnvironment(env);
    p.start(OSSDESK_CLI_PATH, {"generate", "--model", QString::fromStdString(test::tiny_chat_model()), "--prompt", "Hi",
                               "--max-tokens", "2", "--temperature", "0", "--context", "256", "--backend", backend});
    if (!p.waitForFinished(300000)) return {-1, "timed out"};
    return {p.exitCode(), QString::fromUtf8(p.readAllStandardError())};
  }
  // The same on the CPU emulator of CUDA (tests/cuda_emu) set up by `env_vars`.
  std::pair<int, QString> generate_on_emulator(const QString& backend, const QList<QPair<QString, QString>>& env_vars) {
    return generate_with(kEmulatedLibrary, backend, env_vars);
  }

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

  // Which compute capabilities the kernels run on (cuda_arch.h): machine
  // code for X.Y runs on X.Z, Z >= Y; PTX on X.Y and newer.
  void kernels_run_on_the_architectures_built() {
    using cuda::kernels_run_on;
    const char* both = "80,86,89,90,120";  // CMake's default: machine code and PTX for each
    QVERIFY(!kernels_run_on(both, 7, 5));  // RTX 2080
    QVERIFY(!kernels_run_on(both, 6, 1));  // GTX 1080
    QVERIFY(kernels_run_on(both, 8, 0));
    QVERIFY(kernels_run_on(both, 8, 7));   // Orin: 8.6's machine code
    QVERIFY(kernels_run_on(both, 10, 0));  // B200: 9.0's PTX, compiled by the driver
    QVERIFY(kernels_run_on(both, 12, 1));
    const char* real = "80-real,90-real";
    QVERIFY(kernels_run_on(real, 8, 6));
    QVERIFY(kernels_run_on(real, 9, 0));
    QVERIFY(!kernels_run_on(real, 10, 0));  // no PTX to compile for a new major version
    QVERIFY(!kernels_run_on(real, 7, 5));
    QVERIFY(!kernels_run_on("90-virtual", 8, 9));
    QVERIFY(kernels_run_on("90-virtual", 12, 0));
    QVERIFY(!kernels_run_on("8x,90-other", 9, 0));  // entries that are not architectures count for nothing
    QVERIFY(!kernels_run_on("", 9, 0));
    QCOMPARE(cuda::kernels_do_not_run_because(both, 7, 5),
             std::string("compute 7.5; this build's CUDA kernels run on compute 8.0 and newer"));
    QCOMPARE(cuda::kernels_do_not_run_because(real, 10, 0),
             std::string("compute 10.0; this build's CUDA kernels run on compute 8.0, 9.0"));
    // This build's list (engine/src/backends/cuda/CMakeLists.txt): Ampere and newer.
    QVERIFY2(!kernels_run_on(OSSDESK_CUDA_KERNEL_ARCHS, 7, 5), OSSDESK_CUDA_KERNEL_ARCHS);
    QVERIFY2(kernels_run_on(OSSDESK_CUDA_KERNEL_ARCHS, 8, 0), OSSDESK_CUDA_KERNEL_ARCHS);
    QVERIFY2(kernels_run_on(OSSDESK_CUDA_KERNEL_ARCHS, 9, 0), OSSDESK_CUDA_KERNEL_ARCHS);
  }

  // A GPU the kernels were not built for (the emulator pretending to be an
  // RTX 2080's compute 7.5) is not a CUDA device: auto runs elsewhere and
  // says why, and asking for CUDA fails with the same words, not at the
  // first kernel.
  void a_gpu_older_than_the_kernels_is_passed_over() {
    if (!kEmulatedLibrary) QSKIP("no emulated CUDA library in this build");
    const QString reason = "ossdesk CUDA emulator (CPU) (compute 7.5; this build's CUDA kernels run on compute 8.0 and newer)";
    const auto [auto_exit, auto_err] = generate_on_emulator("auto", {{"OSSDESK_CUDA_EMULATOR_COMPUTE", "7.5"}});
    QCOMPARE(auto_exit, 0);
    QVERIFY2(auto_err.contains("no CUDA GPU: " + reason), qPrintable(auto_err));
    const auto [cuda_exit, cuda_err] = generate_on_emulator("cuda", {{"OSSDESK_CUDA_EMULATOR_COMPUTE", "7.5"}});
    QVERIFY(cuda_exit != 0);
    QVERIFY2(cuda_err.contains("cuda: " + reason), qPrintable(cuda_err));
    const auto [ok_exit, ok_err] = generate_on_emulator("auto", {{"OSSDESK_CUDA_EMULATOR_COMPUTE", "8.0"}});
    QCOMPARE(ok_exit, 0);
    QVERIFY2(ok_err.contains("cuda on ossdesk CUDA emulator (CPU) (an NVIDIA GPU)"), qPrintable(ok_err));
  }

  // A CUDA GPU with too little memory for the model hands auto on to the
  // next backend, which runs it and says what CUDA needed.
  void a_gpu_without_room_for_the_model_hands_auto_on() {
    if (!kEmulatedLibrary) QSKIP("no emulated CUDA library in this build");
    const auto [exit_code, err] = generate_on_emulator("auto", {{"OSSDESK_CUDA_EMULATOR_MEMORY_MIB", "1"}});
    QCOMPARE(exit_code, 0);
    QVERIFY2(err.contains("cuda could not load the model: the model needs "), qPrintable(err));
    QVERIFY2(err.contains("but ossdesk CUDA emulator (CPU) has "), qPrintable(err));
    // Asked for by name, it fails: the engine says what did not fit, the CLI what to try.
    const auto [cuda_exit, cuda_err] = generate_on_emulator("cuda", {{"OSSDESK_CUDA_EMULATOR_MEMORY_MIB", "1"}});
    QCOMPARE(cuda_exit, 1);
    QVERIFY2(cuda_err.contains("error: the model needs "), qPrintable(cuda_err));
    QVERIFY2(cuda_err.contains("a shorter --context, a smaller model or another --backend (cpu) may fit"), qPrintable(cuda_err));
  }

  // The library is looked for once per process: a fresh CLI with a wrong
  // OSSDESK_CUDA_LIBRARY shows where it looked, and still answers on the CPU.
  void a_missing_library_is_named_and_the_engine_still_runs() {
    const auto [exit_code, err] = generate_with("/nonexistent/libossdesk_cuda.so", "auto");
    QCOMPARE(exit_code, 0);
    QVERIFY2(err.contains("no CUDA GPU: the CUDA backend library was not found (looked for /nonexistent/libossdesk_cuda.so)"),
             qPrintable(err));
  }
};

QTEST_MAIN(TestCudaLoader)
#include "test_cuda_loader.moc"

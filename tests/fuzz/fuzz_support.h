// Shared by the fuzz targets: where a target writes the bytes it was
// given when the code under test reads a file, and the one rule every target
// checks besides the sanitizers: code reading hostile input either succeeds or
// throws ossdesk::Error. Any other exception escapes LLVMFuzzerTestOneInput,
// which libFuzzer reports as a crash with the input that caused it.
#pragma once

#ifdef _WIN32
#include <process.h>
#else
#include <unistd.h>
#endif

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ossdesk/error.h"

namespace ossdesk::fuzz {

inline int process_id() {
#ifdef _WIN32
  return _getpid();
#else
  return ::getpid();
#endif
}

// A folder of this process's own under /dev/shm where there is one (memory,
// so a write per input costs microseconds), created on first use and removed
// when the process exits normally.
inline const std::filesystem::path& scratch_dir() {
  struct Owned {
    std::filesystem::path path;
    ~Owned() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static const Owned dir{[] {
    const std::filesystem::path base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    auto path = base / ("ossdesk-fuzz-" + std::to_string(process_id()));
    std::filesystem::create_directories(path);
    return path;
  }()};
  return dir.path;
}

inline std::filesystem::path write_scratch(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const auto path = scratch_dir() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs `f`; an ossdesk::Error is the accepted way to refuse input.
template <typename F>
void refusing_only_with_error(F&& f) {
  try {
    f();
  } catch (const Error&) {
  }
}

// A file a target needs besides its input (the o200k rank file): from the
// environment variable `var`, with a clear message when it is missing.
inline std::string required_file_from_env(const char* var, const char* what) {
  const char* p = std::getenv(var);
  if (!p || !std::filesystem::exists(p)) {
    std::fprintf(stderr, "fuzz: set %s to %s (tests/fuzz/README.md)\n", var, what);
    std::exit(2);
  }
  return p;
}

#ifdef OSSDESK_FUZZ_REPLAY
// replay_test.cpp reports the input and the property by name.
struct PropertyFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] inline void property_failed(const char* what) { throw PropertyFailed(std::string("fuzz property failed: ") + what); }
#else
// Stops the run with a message naming the broken property; libFuzzer saves the input.
[[noreturn]] inline void property_failed(const char* what) {
  std::fprintf(stderr, "fuzz property failed: %s\n", what);
  std::abort();
}
#endif

}  // namespace ossdesk::fuzz

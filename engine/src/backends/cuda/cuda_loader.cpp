#include "backends/cuda/cuda_loader.h"

#include <cstdlib>
#include <filesystem>
#include <mutex>

#ifdef _WIN32
#include <windows.h>
#else
#include <dlfcn.h>
#include <unistd.h>
#endif

#include "backends/cuda/cuda_plugin_abi.h"
#include "ossdesk/error.h"

namespace ossdesk::cuda {
namespace {

namespace fs = std::filesystem;

#ifdef _WIN32
constexpr const char* kLibraryName = "ossdesk_cuda.dll";
#else
constexpr const char* kLibraryName = "libossdesk_cuda.so";
#endif

fs::path executable_dir() {
#ifdef _WIN32
  wchar_t buf[MAX_PATH];
  const DWORD n = GetModuleFileNameW(nullptr, buf, MAX_PATH);
  return n ? fs::path(std::wstring(buf, n)).parent_path() : fs::path();
#else
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
#endif
}

struct Library {
  bool loaded = false;
  std::string path;  // when loaded
  std::string why;   // when not loaded
  OssdeskCudaListFn list = nullptr;
  OssdeskCudaCreateFn create = nullptr;
};

void* open_library(const fs::path& path, std::string* error) {
#ifdef _WIN32
  HMODULE h = LoadLibraryW(path.wstring().c_str());
  if (!h) *error = "LoadLibrary failed with error " + std::to_string(GetLastError());
  return reinterpret_cast<void*>(h);
#else
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) *error = dlerror();
  return h;
#endif
}

void* symbol(void* library, const char* name) {
#ifdef _WIN32
  return reinterpret_cast<void*>(GetProcAddress(reinterpret_cast<HMODULE>(library), name));
#else
  return dlsym(library, name);
#endif
}

Library load() {
  Library lib;
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("OSSDESK_CUDA_LIBRARY"); env && *env) {
    candidates.emplace_back(env);
  } else {
    const fs::path dir = executable_dir();
    if (!dir.empty()) {
      candidates.push_back(dir / OSSDESK_CUDA_PLUGIN_FROM_BINDIR / kLibraryName);  // installed (packaging/)
      candidates.push_back(dir / ".." / "lib" / kLibraryName);                     // build/bin beside build/lib
      candidates.push_back(dir / kLibraryName);
    }
#ifdef OSSDESK_CUDA_PLUGIN_BUILD_PATH
    candidates.emplace_back(OSSDESK_CUDA_PLUGIN_BUILD_PATH);
#endif
  }
  std::string looked;
  for (const fs::path& path : candidates) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      looked += (looked.empty() ? "" : ", ") + path.lexically_normal().string();
      continue;
    }
    std::string error;
    void* handle = open_library(path, &error);
    if (!handle) {
      lib.why = "the CUDA backend library " + path.string() + " could not be loaded: " + error;
      return lib;
    }
    auto abi = reinterpret_cast<OssdeskCudaAbiFn>(symbol(handle, OSSDESK_CUDA_ABI_SYMBOL));
    lib.list = reinterpret_cast<OssdeskCudaListFn>(symbol(handle, OSSDESK_CUDA_LIST_SYMBOL));
    lib.create = reinterpret_cast<OssdeskCudaCreateFn>(symbol(handle, OSSDESK_CUDA_CREATE_SYMBOL));
    if (!abi || !lib.list || !lib.create) {
      lib.why = path.string() + " is not an ossdesk CUDA backend library (missing entry points)";
      return lib;
    }
    if (abi() != kCudaPluginAbi) {
      lib.why = path.string() + " is from another ossdesk build (interface " + std::to_string(abi()) + ", expected " +
                std::to_string(kCudaPluginAbi) + ")";
      return lib;
    }
    lib.loaded = true;  // the handle stays open for the life of the process
    lib.path = path.lexically_normal().string();
    return lib;
  }
  lib.why = std::string("the CUDA backend library was not found (looked for ") + looked + ")";
  return lib;
}

const Library& library() {
  static const Library lib = load();
  return lib;
}

}  // namespace

std::vector<DeviceInfo> list_devices(std::string* why_none) {
  const Library& lib = library();
  if (!lib.loaded) {
    if (why_none) *why_none = lib.why;
    return {};
  }
  OssdeskCudaDevice devices[16] = {};
  char why[512] = {};
  const int n = lib.list(devices, 16, why, sizeof why);
  if (n <= 0) {
    if (why_none) *why_none = why[0] ? why : "no CUDA device";
    return {};
  }
  std::vector<DeviceInfo> out;
  for (int i = 0; i < std::min(n, 16); ++i) {
    const OssdeskCudaDevice& d = devices[i];
    DeviceInfo info;
    info.backend = "cuda";
    info.name = d.name;
    info.type = "discrete";
    info.driver = "CUDA driver " + std::to_string(d.driver_version / 1000) + "." + std::to_string(d.driver_version % 1000 / 10) +
                  ", compute " + std::to_string(d.compute_major) + "." + std::to_string(d.compute_minor) + ", " +
                  std::to_string(d.multiprocessors) + " SMs";
    info.memory_bytes = d.memory_bytes;
    info.memory_bandwidth_bytes_per_s = d.memory_bandwidth_bytes_per_s;
    info.index = d.index;
    out.push_back(std::move(info));
  }
  return out;
}

std::string library_path() { return library().path; }

std::unique_ptr<Backend> create_backend(const Model& model, const BackendOptions& options, const LoadControl& control) {
  const Library& lib = library();
  if (!lib.loaded) fail(ErrorKind::Unsupported, "cuda: " + lib.why);
  char error[1024] = {};
  int kind = static_cast<int>(ErrorKind::Internal);
  Backend* backend = lib.create(&model, &options, &control, error, sizeof error, &kind);
  if (!backend) fail(static_cast<ErrorKind>(kind), error[0] ? error : "cuda: the backend could not be created");
  return std::unique_ptr<Backend>(backend);
}

}  // namespace ossdesk::cuda

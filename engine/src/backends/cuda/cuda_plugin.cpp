// libossdesk_cuda's entry points (cuda_plugin_abi.h): device listing and
// backend creation, with every failure turned into text the engine shows.
#include <cuda_runtime.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/cuda_plugin_abi.h"
#include "ossdesk/error.h"

#if defined(_WIN32)
#define OSSDESK_CUDA_EXPORT extern "C" __declspec(dllexport)
#else
#define OSSDESK_CUDA_EXPORT extern "C" __attribute__((visibility("default")))
#endif

namespace {

void copy_text(const char* text, char* out, int size) {
  if (!out || size <= 0) return;
  std::snprintf(out, static_cast<std::size_t>(size), "%s", text);
}

}  // namespace

OSSDESK_CUDA_EXPORT int ossdesk_cuda_abi() { return kCudaPluginAbi; }

OSSDESK_CUDA_EXPORT int ossdesk_cuda_list_devices(OssdeskCudaDevice* out, int capacity, char* why, int why_size) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    const char* what = status == cudaErrorInsufficientDriver ? "no NVIDIA driver, or one too old for CUDA 13"
                       : status == cudaErrorNoDevice         ? "no NVIDIA GPU"
                                                             : cudaGetErrorString(status);
    char text[256];
    std::snprintf(text, sizeof text, "%s (%s)", what, cudaGetErrorName(status));
    copy_text(text, why, why_size);
    return 0;
  }
  if (count == 0) {
    copy_text("no NVIDIA GPU", why, why_size);
    return 0;
  }
  int driver = 0;
  cudaDriverGetVersion(&driver);
  int usable = 0;
  std::string left_out;  // GPUs this build's kernels do not run on, with why
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
    if (const std::string why = ossdesk::cuda::kernels_cannot_run_on(p); !why.empty()) {
      left_out += (left_out.empty() ? "" : "; ") + why;
      continue;
    }
    if (usable == capacity) continue;
    OssdeskCudaDevice& d = out[usable++];
    std::memset(&d, 0, sizeof d);
    d.index = i;
    copy_text(p.name, d.name, sizeof d.name);
    d.memory_bytes = p.totalGlobalMem;
    d.compute_major = p.major;
    d.compute_minor = p.minor;
    d.multiprocessors = p.multiProcessorCount;
    d.driver_version = driver;
    d.memory_bandwidth_bytes_per_s = ossdesk::cuda::peak_memory_bandwidth(i);
  }
  copy_text(usable == 0 && left_out.empty() ? "no NVIDIA GPU the CUDA runtime could describe" : left_out.c_str(), why,
            why_size);
  return usable;
}

OSSDESK_CUDA_EXPORT ossdesk::Backend* ossdesk_cuda_create_backend(const ossdesk::Model* model,
                                                                  const ossdesk::BackendOptions* options,
                                                                  const ossdesk::LoadControl* control, char* error,
                                                                  int error_size, int* error_kind) {
  try {
    return new ossdesk::cuda::CudaBackend(*model, *options, *control);
  } catch (const ossdesk::Error& e) {
    copy_text(e.what(), error, error_size);
    if (error_kind) *error_kind = static_cast<int>(e.kind());
  } catch (const std::exception& e) {
    copy_text(e.what(), error, error_size);
    if (error_kind) *error_kind = static_cast<int>(ossdesk::ErrorKind::Internal);
  }
  return nullptr;
}

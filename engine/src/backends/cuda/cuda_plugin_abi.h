// The boundary between the engine and libossdesk_cuda, the CUDA backend built
// as a separate shared library and loaded at run time (cuda_loader), so one
// build runs on machines without an NVIDIA driver: there the library fails to
// find a device and the engine falls back to Vulkan, then CPU, saying why.
//
// The functions are extern "C" and exchange plain structs; the backend object
// itself crosses as an ossdesk::Backend*, which is safe because the library is
// built in the same build as the engine (kCudaPluginAbi guards against a
// library from another build).
#pragma once

#include <cstdint>

namespace ossdesk {
class Backend;
class Model;
struct BackendOptions;
struct LoadControl;
}  // namespace ossdesk

// Bumped whenever backend.h, model.h or this file change in a way the library sees.
constexpr int kCudaPluginAbi = 3;

extern "C" {

struct OssdeskCudaDevice {
  int index;  // the CUDA device ordinal (devices the kernels cannot run on are left out)
  char name[256];
  std::uint64_t memory_bytes;
  int compute_major, compute_minor;
  int multiprocessors;
  int driver_version;  // e.g. 13000
  std::uint64_t memory_bandwidth_bytes_per_s;  // theoretical peak; 0 when unknown
};

// kCudaPluginAbi of the library.
typedef int (*OssdeskCudaAbiFn)();
// Fills up to `capacity` devices this build's kernels run on and returns how
// many there are; 0 with the reason in `why` (NUL-terminated, at most
// why_size bytes) when there are none. GPUs left out are named in `why`.
typedef int (*OssdeskCudaListFn)(OssdeskCudaDevice* out, int capacity, char* why, int why_size);
// Creates and loads the backend; null with the message in `error` and the
// ossdesk::ErrorKind (as int) in `error_kind` when it fails.
typedef ossdesk::Backend* (*OssdeskCudaCreateFn)(const ossdesk::Model* model, const ossdesk::BackendOptions* options,
                                                 const ossdesk::LoadControl* control, char* error, int error_size,
                                                 int* error_kind);
}

#define OSSDESK_CUDA_ABI_SYMBOL "ossdesk_cuda_abi"
#define OSSDESK_CUDA_LIST_SYMBOL "ossdesk_cuda_list_devices"
#define OSSDESK_CUDA_CREATE_SYMBOL "ossdesk_cuda_create_backend"

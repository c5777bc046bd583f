// Finding and loading libossdesk_cuda (see cuda_plugin_abi.h). Looked for at
// $OSSDESK_CUDA_LIBRARY, then relative to the executable (where the install
// puts it, ../lib, the same folder), then where this build put it. Loaded
// once per process; every failure becomes a reason the user can read ("no
// NVIDIA driver", "library not found: looked in ...").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"

namespace ossdesk::cuda {

// The CUDA devices, or none with the reason.
std::vector<DeviceInfo> list_devices(std::string* why_none);

// The file the library was loaded from, or "" when it was not.
std::string library_path();

// Creates the CUDA backend through the library. Throws Error(Unsupported)
// with the reason when the library or a device is missing, or what the
// backend threw (its ErrorKind kept).
std::unique_ptr<Backend> create_backend(const Model& model, const BackendOptions& options, const LoadControl& control);

}  // namespace ossdesk::cuda

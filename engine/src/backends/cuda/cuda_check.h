// CUDA runtime errors as ossdesk::Error: out of memory as OutOfMemory (with
// what was being allocated), everything else as Internal naming the call.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "ossdesk/error.h"

namespace ossdesk::cuda {

inline void check(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  const std::string message = std::string("cuda: ") + what + ": " + cudaGetErrorString(status);
  fail(status == cudaErrorMemoryAllocation ? ErrorKind::OutOfMemory : ErrorKind::Internal, message);
}

}  // namespace ossdesk::cuda

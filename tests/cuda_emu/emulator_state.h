// State the emulated runtime (runtime.cpp) and the scheduler share.
#pragma once

#include <cuda_runtime.h>

#include <string>

namespace ossdesk_emu {

// A kernel or launch failed: the error sticks, as a GPU fault does, and every
// later synchronising call returns it. The message goes to stderr at once.
void record_error(cudaError_t error, const std::string& message);

}  // namespace ossdesk_emu

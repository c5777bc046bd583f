// Where a loaded model's weights are read from while it generates: what
// Engine::weights_status() reports and each backend answers.
//
// GPU backends copy the weights to the device at load. The CPU backend reads
// them from the memory-mapped file, so right after a load they are on disk;
// it reads them into RAM in the background when they fit in free memory, and
// otherwise tokens wait on the disk, which the user should be told.
#pragma once

#include <cstdint>
#include <string>

namespace ossdesk {

enum class WeightsPlace {
  Device,   // copied to the GPU at load
  Reading,  // being read into RAM in the background (bytes_read of bytes so far)
  Memory,   // in RAM
  Disk,     // too big for free memory: read from disk as each token needs them
};

inline const char* to_string(WeightsPlace place) {
  switch (place) {
    case WeightsPlace::Device: return "device";
    case WeightsPlace::Reading: return "reading";
    case WeightsPlace::Memory: return "memory";
    case WeightsPlace::Disk: return "disk";
  }
  return "device";
}

struct WeightsStatus {
  WeightsPlace place = WeightsPlace::Device;
  std::uint64_t bytes = 0;       // what the forward pass reads (0 for Device)
  std::uint64_t bytes_read = 0;  // Reading: read into RAM so far; Memory: bytes
  std::string note;              // for the user, with sizes; "" for Device
};

}  // namespace ossdesk

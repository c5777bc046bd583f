// Per-op time from a backend's profiling (timestamp queries on GPUs, wall
// clock on the CPU), as BackendOptions/EngineOptions::profile collects it.
#pragma once

#include <cstdint>
#include <string>

namespace ossdesk {

struct OpTiming {
  std::string op;
  double total_ms = 0;
  std::uint64_t calls = 0;
};

}  // namespace ossdesk

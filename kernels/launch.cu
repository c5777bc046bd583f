// The process-wide switch for programmatic dependent launch, which launch()
// (common.cuh) reads for every kernel it enqueues.
#include <atomic>

#include "common.cuh"

namespace ossdesk::cuda {
namespace {

std::atomic<bool> programmatic{false};

}  // namespace

void set_programmatic_launch(bool on) { programmatic.store(on, std::memory_order_relaxed); }
bool programmatic_launch() { return programmatic.load(std::memory_order_relaxed); }

}  // namespace ossdesk::cuda

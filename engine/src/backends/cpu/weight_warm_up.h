// Whether, and in what order, the CPU backend reads the model's weights into
// RAM in the background after a load (util/page_warmer.h says why).
//
// Only when they fit: warming a model larger than free memory would evict its
// first layers while reading its last ones, and then tokens read from
// disk whatever we do. The user is told so instead, as the CPU will be slow.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "model/model.h"
#include "ossdesk/weights_status.h"
#include "util/page_warmer.h"

namespace ossdesk::cpu {

// Free memory a warm-up leaves for everything else (the app, the OS, other
// programs' next allocations). Below it, the kernel would start dropping the
// weights it just read.
constexpr std::uint64_t kWarmUpReserveBytes = 1ull << 30;

// The stored tensors the forward pass reads, ordered by the first layer that
// reads them (the final norm and the unembedding last), so a prompt sent
// while warming finds the layers it reaches first already read. The
// embedding table is left out: a prompt reads only its own tokens' rows.
std::vector<std::span<const std::uint8_t>> weight_ranges_in_forward_order(const Model& model);

struct WarmUpDecision {
  WeightsPlace place = WeightsPlace::Disk;  // Reading (warm them), else where they stay: Memory or Disk
  std::string note;  // for the user when not warmed; "" otherwise
  bool warm() const { return place == WeightsPlace::Reading; }
};

// `bytes`: what the forward pass reads; `resident`: how much of it is in RAM
// already; `available`: free memory (util/system_memory.h), which counts the
// resident part as free. Unknown values (nullopt) count as nothing resident
// and no room.
WarmUpDecision decide_weight_warm_up(std::uint64_t bytes, std::optional<std::uint64_t> resident,
                                     std::optional<std::uint64_t> available);

// The decision carried out for a loaded model, and what it means for the user.
class WeightWarmUp {
 public:
  explicit WeightWarmUp(const Model& model);
  // Reading ("reading the weights into memory in the background: 3.10 of
  // 11.26 GiB done"), Memory ("weights in memory (11.26 GiB)"), or Disk with
  // why they stay there.
  WeightsStatus status() const;
  void wait();  // until the background read is over (at once when there is none)

 private:
  std::uint64_t bytes_ = 0;
  WarmUpDecision decision_;
  std::unique_ptr<PageWarmer> warmer_;
};

}  // namespace ossdesk::cpu

#include "backends/kv_rings.h"

#include <algorithm>

namespace ossdesk {

KvRings::KvRings(const ModelConfig& c, int context, int max_batch) : window_(c.sliding_window), context_(context) {
  ring_.resize(static_cast<std::size_t>(c.num_layers));
  for (int l = 0; l < c.num_layers; ++l) {
    const int slots = c.layer_is_sliding[l] ? std::min(context, c.sliding_window + max_batch) : context;
    ring_[l] = c.layer_is_sliding[l] && slots < context ? slots : 0;
  }
}

bool KvRings::any_ring() const {
  return std::any_of(ring_.begin(), ring_.end(), [](int r) { return r != 0; });
}

// After writing positions [0, written_up_to), does every ring still hold the
// window that a token at position n looks back on: [n - window + 1, n)?
bool KvRings::rings_hold(int n, int written_up_to) const {
  for (int r : ring_) {
    if (r == 0) continue;
    // Position q was overwritten by q + r if that was written.
    const int oldest_needed = std::max(0, n - window_ + 1);
    if (oldest_needed + r < written_up_to) return false;
  }
  return true;
}

KvRings::Rollback KvRings::truncate(int n) {
  n = std::clamp(n, 0, position_);
  // A checkpoint past the new position describes tokens that are about to be
  // replaced, so it only survives rollbacks that keep it.
  auto settle = [this](int kept, bool restore) {
    position_ = kept;
    if (checkpoint_position_ > kept) checkpoint_position_ = -1;
    return Rollback{kept, restore};
  };
  if (rings_hold(n, position_)) return settle(n, false);
  if (checkpoint_position_ >= 0 && checkpoint_position_ <= position_) {
    const int keep = std::min(n, checkpoint_position_);
    if (rings_hold(keep, checkpoint_position_)) return settle(keep, true);
  }
  return settle(0, false);
}

}  // namespace ossdesk

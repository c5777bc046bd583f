#include "backends/cpu/kv_cache.h"

#include <algorithm>

namespace ossdesk::cpu {

KvCache::KvCache(const ModelConfig& c, int context, int max_batch)
    : kv_dim_(c.kv_dim()), window_(c.sliding_window), context_(context) {
  const int layers = c.num_layers;
  ring_.resize(layers);
  keys_.resize(layers);
  values_.resize(layers);
  for (int l = 0; l < layers; ++l) {
    const int slots = c.layer_is_sliding[l] ? std::min(context, c.sliding_window + max_batch) : context;
    ring_[l] = c.layer_is_sliding[l] && slots < context ? slots : 0;
    keys_[l].assign(static_cast<std::size_t>(slots) * kv_dim_, 0.0f);
    values_[l].assign(static_cast<std::size_t>(slots) * kv_dim_, 0.0f);
  }
}

// After writing positions [0, written_up_to), does every ring still hold the
// window that a token at position n looks back on: [n - window + 1, n)?
bool KvCache::rings_hold(int n, int written_up_to) const {
  for (int r : ring_) {
    if (r == 0) continue;
    // Position q was overwritten by q + r if that was written.
    const int oldest_needed = std::max(0, n - window_ + 1);
    if (oldest_needed + r < written_up_to) return false;
  }
  return true;
}

int KvCache::truncate(int n) {
  n = std::clamp(n, 0, position_);
  // A checkpoint past the new position describes tokens that are about to be
  // replaced, so it only survives rollbacks that keep it.
  auto settle = [this](int kept) {
    position_ = kept;
    if (checkpoint_position_ > kept) checkpoint_position_ = -1;
    return kept;
  };
  if (rings_hold(n, position_)) return settle(n);
  if (checkpoint_position_ >= 0 && checkpoint_position_ <= position_) {
    const int keep = std::min(n, checkpoint_position_);
    if (rings_hold(keep, checkpoint_position_)) {
      for (std::size_t l = 0; l < ring_.size(); ++l) {
        if (!ring_[l]) continue;
        keys_[l] = checkpoint_keys_[l];
        values_[l] = checkpoint_values_[l];
      }
      return settle(keep);
    }
  }
  return settle(0);
}

void KvCache::checkpoint() {
  checkpoint_keys_.resize(ring_.size());
  checkpoint_values_.resize(ring_.size());
  for (std::size_t l = 0; l < ring_.size(); ++l) {
    if (!ring_[l]) continue;
    checkpoint_keys_[l] = keys_[l];
    checkpoint_values_[l] = values_[l];
  }
  checkpoint_position_ = position_;
}

std::uint64_t KvCache::bytes() const {
  std::uint64_t total = 0;
  for (std::size_t l = 0; l < keys_.size(); ++l) total += (keys_[l].size() + values_[l].size()) * sizeof(float);
  return total;
}

}  // namespace ossdesk::cpu

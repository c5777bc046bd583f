// The CPU backend's KV cache: float32 keys and values per layer, laid out as
// KvRings says (full layers: every position; sliding layers: a ring), with a
// copy of the rings for checkpoints.
#pragma once

#include <vector>

#include "backends/kv_rings.h"
#include "model/config.h"

namespace ossdesk::cpu {

class KvCache {
 public:
  KvCache(const ModelConfig& config, int context, int max_batch);

  int position() const { return rings_.position(); }
  int capacity() const { return rings_.capacity(); }
  void set_position(int p) { rings_.set_position(p); }

  float* key(int layer, int pos) { return slot(keys_[layer], layer, pos); }
  float* value(int layer, int pos) { return slot(values_[layer], layer, pos); }
  const float* key(int layer, int pos) const { return const_cast<KvCache*>(this)->key(layer, pos); }
  const float* value(int layer, int pos) const { return const_cast<KvCache*>(this)->value(layer, pos); }

  int truncate(int n);
  void checkpoint();
  std::uint64_t bytes() const;

 private:
  float* slot(std::vector<float>& store, int layer, int pos) {
    const int r = rings_.ring(layer);
    const int s = r ? pos % r : pos;
    return store.data() + static_cast<std::size_t>(s) * kv_dim_;
  }

  int kv_dim_;
  KvRings rings_;
  std::vector<std::vector<float>> keys_, values_;
  std::vector<std::vector<float>> checkpoint_keys_, checkpoint_values_;
};

}  // namespace ossdesk::cpu

// The CPU backend's KV cache: float32 keys and values per layer, each kv
// head's rows together ([kv head][slot][head_dim]), so that attention reads one
// contiguous run per head (the hardware streams it) instead of a row every
// kv_dim floats. Slots are laid out as KvRings says (full layers: every
// position; sliding layers: a ring); a copy of the rings serves checkpoints.
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

  // Stores position `pos`'s keys and values, kv_dim floats each (every kv head's row in turn).
  void store(int layer, int pos, const float* keys, const float* values);
  // One kv head's row at a position.
  const float* key(int layer, int pos, int kv_head) const { return row(keys_[layer], layer, pos, kv_head); }
  const float* value(int layer, int pos, int kv_head) const { return row(values_[layer], layer, pos, kv_head); }

  int truncate(int n);
  void checkpoint();
  std::uint64_t bytes() const;

 private:
  std::size_t offset(int layer, int pos, int kv_head) const {
    const int r = rings_.ring(layer);
    const int slot = r ? pos % r : pos;
    return (static_cast<std::size_t>(kv_head) * rings_.slot_count(layer) + slot) * head_dim_;
  }
  const float* row(const std::vector<float>& data, int layer, int pos, int kv_head) const {
    return data.data() + offset(layer, pos, kv_head);
  }

  int kv_heads_;
  int head_dim_;
  KvRings rings_;
  std::vector<std::vector<float>> keys_, values_;
  std::vector<std::vector<float>> checkpoint_keys_, checkpoint_values_;
};

}  // namespace ossdesk::cpu

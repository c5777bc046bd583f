// The CPU backend's KV cache: float32 keys and values per layer. Full-attention
// layers keep every position; sliding-window layers keep a ring of
// window + max_batch positions (a batch writes all its keys before attending,
// so the ring must hold the window behind the batch's first token plus the
// batch). A checkpoint copies the rings so a rollback to the end of a prompt
// keeps working after the answer has wrapped them.
#pragma once

#include <vector>

#include "model/config.h"

namespace ossdesk::cpu {

class KvCache {
 public:
  KvCache(const ModelConfig& config, int context, int max_batch);

  int position() const { return position_; }
  int capacity() const { return context_; }
  void set_position(int p) { position_ = p; }

  float* key(int layer, int pos) { return slot(keys_[layer], layer, pos); }
  float* value(int layer, int pos) { return slot(values_[layer], layer, pos); }
  const float* key(int layer, int pos) const { return const_cast<KvCache*>(this)->key(layer, pos); }
  const float* value(int layer, int pos) const { return const_cast<KvCache*>(this)->value(layer, pos); }

  int truncate(int n);
  void checkpoint();
  std::uint64_t bytes() const;

 private:
  float* slot(std::vector<float>& store, int layer, int pos) {
    const int s = ring_[layer] ? pos % ring_[layer] : pos;
    return store.data() + static_cast<std::size_t>(s) * kv_dim_;
  }
  bool rings_hold(int n, int written_up_to) const;

  int kv_dim_;
  int window_;
  int context_;
  int position_ = 0;
  std::vector<int> ring_;  // per layer: ring size, 0 for full layers
  std::vector<std::vector<float>> keys_, values_;
  // Checkpoint of the rings.
  int checkpoint_position_ = -1;
  std::vector<std::vector<float>> checkpoint_keys_, checkpoint_values_;
};

}  // namespace ossdesk::cpu

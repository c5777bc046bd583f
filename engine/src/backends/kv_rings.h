// Which positions a backend's KV cache holds, shared by every backend so the
// rollback rule is the same everywhere. Full-attention layers keep every
// position; sliding-window layers keep a ring of window + max_batch slots (a
// batch writes all its keys before attending, so the ring must hold the window
// behind the batch's first token plus the batch). A checkpoint of the rings
// lets a rollback to the end of a prompt keep working after the answer has
// wrapped them. The backend owns the storage and copies the rings when told.
#pragma once

#include <vector>

#include "model/config.h"

namespace ossdesk {

class KvRings {
 public:
  KvRings(const ModelConfig& config, int context, int max_batch);

  int capacity() const { return context_; }
  int position() const { return position_; }
  void set_position(int p) { position_ = p; }
  int layers() const { return static_cast<int>(ring_.size()); }
  // Slots of storage layer `l` needs, and its ring size (0: slot = position).
  int slot_count(int layer) const { return ring_[layer] ? ring_[layer] : context_; }
  int ring(int layer) const { return ring_[layer]; }
  bool any_ring() const;

  struct Rollback {
    int kept = 0;                     // the new position
    bool restore_checkpoint = false;  // the backend must copy the checkpointed rings back
  };
  // Decides how far a rollback to `n` tokens can go and updates the position.
  Rollback truncate(int n);
  // Records that the backend copied the rings at the current position.
  void checkpoint() { checkpoint_position_ = position_; }

 private:
  bool rings_hold(int n, int written_up_to) const;

  int window_;
  int context_;
  int position_ = 0;
  int checkpoint_position_ = -1;
  std::vector<int> ring_;  // per layer: ring size, 0 for full layers
};

}  // namespace ossdesk

#include "backends/cpu/kv_cache.h"

#include <algorithm>

namespace ossdesk::cpu {

KvCache::KvCache(const ModelConfig& c, int context, int max_batch)
    : kv_heads_(c.num_kv_heads), head_dim_(c.head_dim), rings_(c, context, max_batch) {
  keys_.resize(static_cast<std::size_t>(c.num_layers));
  values_.resize(keys_.size());
  for (int l = 0; l < c.num_layers; ++l) {
    const std::size_t floats = static_cast<std::size_t>(rings_.slot_count(l)) * c.kv_dim();
    keys_[l].assign(floats, 0.0f);
    values_[l].assign(floats, 0.0f);
  }
}

void KvCache::store(int layer, int pos, const float* keys, const float* values) {
  for (int h = 0; h < kv_heads_; ++h) {
    const std::size_t at = offset(layer, pos, h);
    std::copy_n(keys + static_cast<std::size_t>(h) * head_dim_, head_dim_, keys_[layer].begin() + static_cast<std::ptrdiff_t>(at));
    std::copy_n(values + static_cast<std::size_t>(h) * head_dim_, head_dim_,
                values_[layer].begin() + static_cast<std::ptrdiff_t>(at));
  }
}

int KvCache::truncate(int n) {
  const KvRings::Rollback r = rings_.truncate(n);
  if (r.restore_checkpoint) {
    for (int l = 0; l < rings_.layers(); ++l) {
      if (!rings_.ring(l)) continue;
      keys_[l] = checkpoint_keys_[l];
      values_[l] = checkpoint_values_[l];
    }
  }
  return r.kept;
}

void KvCache::checkpoint() {
  checkpoint_keys_.resize(keys_.size());
  checkpoint_values_.resize(values_.size());
  for (int l = 0; l < rings_.layers(); ++l) {
    if (!rings_.ring(l)) continue;
    checkpoint_keys_[l] = keys_[l];
    checkpoint_values_[l] = values_[l];
  }
  rings_.checkpoint();
}

std::uint64_t KvCache::bytes() const {
  std::uint64_t total = 0;
  for (std::size_t l = 0; l < keys_.size(); ++l) total += (keys_[l].size() + values_[l].size()) * sizeof(float);
  return total;
}

}  // namespace ossdesk::cpu

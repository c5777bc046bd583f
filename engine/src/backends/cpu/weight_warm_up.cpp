#include "backends/cpu/weight_warm_up.h"

#include <algorithm>
#include <climits>

#include "backends/backend.h"
#include "util/system_memory.h"

namespace ossdesk::cpu {

namespace {

// A pointer the forward pass reads from, and the first layer that reads it
// (layers count from 0; the final norm and unembedding come after the last).
struct Use {
  const std::uint8_t* at;
  int rank;
};

class UseList {
 public:
  void add(const std::uint8_t* p, int rank) {
    if (p) uses_.push_back({p, rank});
  }
  void add(const VectorView& v, int rank) { add(v.data, rank); }
  void add(const MatrixView& m, int rank) {
    add(m.data, rank);
    add(m.scales, rank);
  }
  void add(const ExpertMatricesView& e, int rank) { add(e.first, rank); }
  void add(const ExpertVectorsView& e, int rank) { add(e.first, rank); }

  void sort() {
    std::sort(uses_.begin(), uses_.end(), [](const Use& a, const Use& b) { return a.at < b.at; });
  }
  // The first layer that reads anything in [data, data + n); INT_MAX for none.
  // After sort().
  int first_rank_in(const std::uint8_t* data, std::uint64_t n) const {
    auto it = std::lower_bound(uses_.begin(), uses_.end(), data, [](const Use& u, const std::uint8_t* p) { return u.at < p; });
    int rank = INT_MAX;
    for (; it != uses_.end() && it->at < data + n; ++it) rank = std::min(rank, it->rank);
    return rank;
  }

 private:
  std::vector<Use> uses_;
};

std::string in_memory_note(std::uint64_t bytes) { return "weights in memory (" + gib_text(bytes) + ")"; }

}  // namespace

std::vector<std::span<const std::uint8_t>> weight_ranges_in_forward_order(const Model& model) {
  const ModelWeights& w = model.weights();
  const int after_layers = static_cast<int>(w.layers.size());
  UseList uses;
  for (int l = 0; l < after_layers; ++l) {
    const LayerWeights& x = w.layers[static_cast<std::size_t>(l)];
    for (const VectorView* v : {&x.attn_norm, &x.bq, &x.bk, &x.bv, &x.bo, &x.sinks, &x.mlp_norm, &x.router_bias})
      uses.add(*v, l);
    for (const MatrixView* m : {&x.wq, &x.wk, &x.wv, &x.wo, &x.router}) uses.add(*m, l);
    for (const ExpertMatricesView* e : {&x.gate, &x.up, &x.down}) uses.add(*e, l);
    for (const ExpertVectorsView* e : {&x.gate_bias, &x.up_bias, &x.down_bias}) uses.add(*e, l);
  }
  uses.add(w.final_norm, after_layers);
  uses.add(w.unembedding, after_layers);  // also keeps a tied embedding/unembedding tensor
  uses.sort();

  struct Ranked {
    int rank;
    std::span<const std::uint8_t> range;
  };
  std::vector<Ranked> ranked;
  for (const TensorView& t : model.tensors()) {
    const int rank = uses.first_rank_in(t.data, t.nbytes);
    if (rank != INT_MAX && t.nbytes > 0) ranked.push_back({rank, {t.data, static_cast<std::size_t>(t.nbytes)}});
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
    return a.rank != b.rank ? a.rank < b.rank : a.range.data() < b.range.data();
  });
  std::vector<std::span<const std::uint8_t>> out;
  out.reserve(ranked.size());
  for (const Ranked& r : ranked) out.push_back(r.range);
  return out;
}

WarmUpDecision decide_weight_warm_up(std::uint64_t bytes, std::optional<std::uint64_t> resident,
                                     std::optional<std::uint64_t> available) {
  const std::uint64_t in_ram = std::min(bytes, resident.value_or(0));
  const std::uint64_t to_read = bytes - in_ram;
  if (to_read == 0) return {WeightsPlace::Memory, in_memory_note(bytes)};
  const std::string on_demand = "the CPU reads them from disk as tokens need them, which makes answers much slower";
  if (!available)
    return {WeightsPlace::Disk,
            "free memory unknown, so the weights (" + gib_text(bytes) + ") are not read ahead: " + on_demand};
  // Free memory counts the model's pages already cached (the kernel could
  // drop them), but those are the ones to keep: the room for the rest is
  // what is free besides them.
  const std::uint64_t room = *available - std::min(*available, in_ram);
  if (to_read + kWarmUpReserveBytes > room)
    return {WeightsPlace::Disk,
            "too little free memory to hold the weights (" + gib_text(to_read) + " to read, " + gib_text(room) +
                " free): " + on_demand};
  return {WeightsPlace::Reading, ""};
}

WeightWarmUp::WeightWarmUp(const Model& model) {
  std::vector<std::span<const std::uint8_t>> ranges = weight_ranges_in_forward_order(model);
  std::optional<std::uint64_t> resident = 0;
  for (const auto& r : ranges) {
    bytes_ += r.size();
    const std::optional<std::uint64_t> in_ram = resident ? resident_bytes(r) : std::nullopt;
    resident = in_ram ? std::optional<std::uint64_t>(*resident + *in_ram) : std::nullopt;
  }
  decision_ = decide_weight_warm_up(bytes_, resident, available_memory_bytes());
  if (decision_.warm()) warmer_ = std::make_unique<PageWarmer>(std::move(ranges));
}

WeightsStatus WeightWarmUp::status() const {
  WeightsStatus s;
  s.bytes = bytes_;
  if (!warmer_) {
    s.place = decision_.place;
    s.bytes_read = s.place == WeightsPlace::Memory ? bytes_ : 0;
    s.note = decision_.note;
  } else if (!warmer_->finished()) {
    s.place = WeightsPlace::Reading;
    s.bytes_read = warmer_->bytes_done();
    s.note = "reading the weights into memory in the background: " + gib_text(s.bytes_read) + " of " + gib_text(bytes_) + " done";
  } else {
    s.place = WeightsPlace::Memory;
    s.bytes_read = bytes_;
    s.note = in_memory_note(bytes_);
  }
  return s;
}

void WeightWarmUp::wait() {
  if (warmer_) warmer_->wait();
}

}  // namespace ossdesk::cpu

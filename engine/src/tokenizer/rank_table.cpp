// Linear probing with a power-of-two table kept at most half full, so a miss (the
// common case for candidate pairs) ends after a probe or two.
#include "tokenizer/rank_table.h"

#include <cstring>

namespace ossdesk {

bool RankTable::same_bytes(const Slot& slot, std::string_view bytes) {
  return slot.length == bytes.size() &&
         (bytes.empty() || std::memcmp(slot.data, bytes.data(), bytes.size()) == 0);
}

RankTable::RankTable(std::size_t expected_entries) {
  std::size_t capacity = 16;
  while (capacity < expected_entries * 2) capacity *= 2;
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
}

std::uint64_t RankTable::hash(std::string_view bytes) {
  // FNV-1a over 8-byte words, then a final avalanche: token strings are short, so
  // this is a handful of multiplies.
  std::uint64_t h = 0xcbf29ce484222325ull ^ bytes.size();
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    h = (h ^ word) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  std::uint64_t tail = 0;
  if (i < bytes.size()) std::memcpy(&tail, bytes.data() + i, bytes.size() - i);
  h = (h ^ tail) * 0x100000001b3ull;
  h ^= h >> 32;
  h *= 0x9e3779b97f4a7c15ull;
  h ^= h >> 29;
  return h;
}

void RankTable::grow() {
  std::vector<Slot> old = std::move(slots_);
  const std::size_t capacity = old.empty() ? 16 : old.size() * 2;
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  size_ = 0;
  for (const Slot& slot : old)
    if (slot.rank != kNoRank) insert(std::string_view(slot.data, slot.length), slot.rank);
}

bool RankTable::insert(std::string_view bytes, std::uint32_t rank) {
  if ((size_ + 1) * 2 > slots_.size()) grow();
  for (std::size_t i = hash(bytes) & mask_;; i = (i + 1) & mask_) {
    Slot& slot = slots_[i];
    if (slot.rank == kNoRank) {
      slot = Slot{bytes.data(), static_cast<std::uint32_t>(bytes.size()), rank};
      ++size_;
      return true;
    }
    if (same_bytes(slot, bytes)) return false;
  }
}

std::uint32_t RankTable::find(std::string_view bytes) const {
  if (slots_.empty()) return kNoRank;
  for (std::size_t i = hash(bytes) & mask_;; i = (i + 1) & mask_) {
    const Slot& slot = slots_[i];
    if (slot.rank == kNoRank) return kNoRank;
    if (same_bytes(slot, bytes)) return slot.rank;
  }
}

}  // namespace ossdesk

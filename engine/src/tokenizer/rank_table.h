// Byte string -> BPE rank lookup, the hot path of encoding (one lookup per piece and
// per candidate pair). Open addressing over string_views into storage the owner
// keeps alive and unchanged (the tokenizer's per-id byte strings).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace ossdesk {

class RankTable {
 public:
  static constexpr std::uint32_t kNoRank = 0xFFFFFFFF;

  RankTable() = default;
  explicit RankTable(std::size_t expected_entries);

  // Returns false (and changes nothing) when `bytes` is already present.
  bool insert(std::string_view bytes, std::uint32_t rank);
  std::uint32_t find(std::string_view bytes) const;  // kNoRank when absent
  std::size_t size() const { return size_; }

 private:
  struct Slot {
    const char* data = nullptr;
    std::uint32_t length = 0;
    std::uint32_t rank = kNoRank;  // kNoRank marks an empty slot
  };
  static std::uint64_t hash(std::string_view bytes);
  static bool same_bytes(const Slot& slot, std::string_view bytes);
  void grow();

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace ossdesk

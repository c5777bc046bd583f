// classify(): a direct table for the Basic Multilingual Plane (where nearly all text
// lives) built once from the generated ranges, and a binary search above it.
#include <algorithm>
#include <array>

#include "tokenizer/unicode_tables.h"

namespace ossdesk::unicode {
namespace {

constexpr std::uint32_t kDirectLimit = 0x10000;

std::uint8_t classify_by_search(std::uint32_t code_point) {
  const CodePointRange* begin = kCodePointRanges;
  const CodePointRange* end = kCodePointRanges + kCodePointRangeCount;
  // First range whose last code point is >= code_point.
  const CodePointRange* it = std::lower_bound(
      begin, end, code_point,
      [](const CodePointRange& range, std::uint32_t cp) { return range.last < cp; });
  if (it != end && it->first <= code_point) return it->classes;
  return 0;
}

const std::array<std::uint8_t, kDirectLimit>& direct_table() {
  static const std::array<std::uint8_t, kDirectLimit> table = [] {
    std::array<std::uint8_t, kDirectLimit> t{};
    for (std::size_t i = 0; i < kCodePointRangeCount; ++i) {
      const CodePointRange& r = kCodePointRanges[i];
      for (std::uint32_t cp = r.first; cp <= r.last && cp < kDirectLimit; ++cp) t[cp] = r.classes;
    }
    return t;
  }();
  return table;
}

}  // namespace

std::uint8_t classify(std::uint32_t code_point) {
  if (code_point < kDirectLimit) return direct_table()[code_point];
  return classify_by_search(code_point);
}

}  // namespace ossdesk::unicode

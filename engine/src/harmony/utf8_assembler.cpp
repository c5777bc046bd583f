// UTF-8 well-formedness per the Unicode Standard, Table 3-7, applied
// incrementally.
#include "harmony/utf8_assembler.h"

#include <cstdint>

namespace ossdesk::harmony {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// For a lead byte: how many continuation bytes follow and the allowed range
// of the first one (the narrower ranges exclude overlongs, surrogates and
// code points above U+10FFFF). need < 0: not a valid lead byte.
struct Lead {
  int need;
  std::uint8_t lo, hi;
};

Lead lead_of(std::uint8_t b) {
  if (b < 0x80) return {0, 0, 0};
  if (b >= 0xC2 && b <= 0xDF) return {1, 0x80, 0xBF};
  if (b == 0xE0) return {2, 0xA0, 0xBF};
  if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) return {2, 0x80, 0xBF};
  if (b == 0xED) return {2, 0x80, 0x9F};
  if (b == 0xF0) return {3, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {3, 0x80, 0xBF};
  if (b == 0xF4) return {3, 0x80, 0x8F};
  return {-1, 0, 0};
}

}  // namespace

std::string Utf8Assembler::push(std::string_view bytes) {
  pending_.append(bytes);
  std::string out;
  const std::size_t n = pending_.size();
  std::size_t i = 0;
  while (i < n) {
    const auto b = static_cast<std::uint8_t>(pending_[i]);
    const Lead lead = lead_of(b);
    if (lead.need == 0) {
      out += static_cast<char>(b);
      ++i;
      continue;
    }
    if (lead.need < 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    // Check the continuation bytes that have arrived so far.
    std::size_t k = 1;
    bool invalid = false;
    for (; k <= static_cast<std::size_t>(lead.need) && i + k < n; ++k) {
      const auto c = static_cast<std::uint8_t>(pending_[i + k]);
      const std::uint8_t lo = k == 1 ? lead.lo : 0x80;
      const std::uint8_t hi = k == 1 ? lead.hi : 0xBF;
      if (c < lo || c > hi) {
        invalid = true;
        break;
      }
    }
    if (invalid) {
      // The valid prefix [i, i+k) is one maximal subpart -> one U+FFFD; the
      // offending byte is looked at again as a possible lead.
      out += kReplacement;
      i += k;
      continue;
    }
    if (k <= static_cast<std::size_t>(lead.need)) break;  // ran out of bytes: hold back from i
    out.append(pending_, i, k);
    i += k;
  }
  pending_.erase(0, i);
  return out;
}

std::string Utf8Assembler::flush() {
  // push() only ever holds back a valid but incomplete prefix of one
  // character, which is a single maximal subpart.
  std::string out = pending_.empty() ? std::string() : std::string(kReplacement);
  pending_.clear();
  return out;
}

std::string sanitize_utf8(std::string_view bytes) {
  Utf8Assembler a;
  std::string out = a.push(bytes);
  return out + a.flush();
}

}  // namespace ossdesk::harmony

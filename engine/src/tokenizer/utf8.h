// UTF-8 sequence reading with the well-formedness rules of Unicode Table 3-7
// (no overlongs, no surrogates, nothing above U+10FFFF).
//
// Shared by the pre-tokenizer (which must classify every character, valid or not)
// and the streaming decoder (which must know when a sequence is still incomplete).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ossdesk::utf8 {

enum class SequenceStatus {
  Valid,      // `length` bytes encode `code_point`
  Truncated,  // the input ends inside a sequence that could still become valid
  Invalid,    // `length` bytes (>= 1) are the maximal subpart of an ill-formed sequence
};

struct Sequence {
  SequenceStatus status;
  std::size_t length;
  std::uint32_t code_point;  // meaningful only when Valid
};

// Reads the sequence that starts at data[0]; size must be > 0. For Invalid the
// length is Unicode's "maximal subpart" (the lead byte plus the continuation bytes
// that were still acceptable), which is what one U+FFFD replaces.
Sequence read_sequence(const unsigned char* data, std::size_t size);

// The UTF-8 bytes of U+FFFD REPLACEMENT CHARACTER.
inline constexpr const char* kReplacementCharacter = "\xEF\xBF\xBD";

// Appends the UTF-8 encoding of a code point (<= U+10FFFF, not a surrogate).
void append_code_point(std::string& out, std::uint32_t code_point);

}  // namespace ossdesk::utf8

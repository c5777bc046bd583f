// Reassembles UTF-8 text from token bytes that may split a character.
//
// Byte-level BPE tokens often end in the middle of a multi-byte character
// (an emoji is typically two or three tokens). The stream parser must never
// hand the UI half a character, so bytes of an incomplete sequence are held
// back until the sequence completes; bytes that can never form a character
// become U+FFFD, one per maximal invalid subsequence (what Rust's
// String::from_utf8_lossy and harmony do). The tokenizer's StreamingDecoder
// does the same for whole id streams; this one works on bytes so the parser
// can route header and content bytes separately.
#pragma once

#include <string>
#include <string_view>

namespace ossdesk::harmony {

class Utf8Assembler {
 public:
  // The text that became complete with these bytes (may be empty).
  std::string push(std::string_view bytes);
  // Whatever is held back, as U+FFFD (an incomplete sequence at the end can
  // no longer complete); empties the assembler.
  std::string flush();
  bool holding() const { return !pending_.empty(); }
  void reset() { pending_.clear(); }

 private:
  std::string pending_;
};

// Any byte string as valid UTF-8: complete characters kept, the rest U+FFFD.
std::string sanitize_utf8(std::string_view bytes);

}  // namespace ossdesk::harmony

// StreamingDecoder: token bytes are appended to a pending buffer and released
// sequence by sequence; a sequence cut off by the end of the buffer waits for the
// next token, an ill-formed one becomes U+FFFD (one per maximal subpart, the
// substitution Unicode recommends and TextDecoder performs).
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace ossdesk {
namespace {

// Moves the complete prefix of `pending` into the result; with `at_end`, a
// truncated tail is ill-formed too (nothing more will come to complete it).
std::string release(std::string& pending, bool at_end) {
  std::string out;
  const auto* data = reinterpret_cast<const unsigned char*>(pending.data());
  std::size_t pos = 0;
  while (pos < pending.size()) {
    const utf8::Sequence seq = utf8::read_sequence(data + pos, pending.size() - pos);
    if (seq.status == utf8::SequenceStatus::Truncated && !at_end) break;
    if (seq.status == utf8::SequenceStatus::Valid)
      out.append(pending, pos, seq.length);
    else
      out += utf8::kReplacementCharacter;
    pos += seq.length;
  }
  pending.erase(0, pos);
  return out;
}

}  // namespace

std::string StreamingDecoder::push(TokenId id) {
  pending_ += tokenizer_.token_bytes(id);
  return release(pending_, false);
}

std::string StreamingDecoder::flush() { return release(pending_, true); }

}  // namespace ossdesk

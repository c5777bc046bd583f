// The o200k pattern as explicit scans. Each alternative of the pattern is one
// function below, tried in the pattern's order; where the regex would backtrack,
// the scan instead remembers the one position backtracking would settle on (the
// last lower-side character of a run, the last line break of a white-space run,
// the start of a run's last character), so every piece costs one pass.
#include "tokenizer/pretokenizer.h"

#include <cstdint>

#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"

namespace ossdesk::o200k {
namespace {

constexpr std::size_t kNoMatch = static_cast<std::size_t>(-1);
constexpr std::uint32_t kInvalidByte = 0xFFFFFFFF;

struct Char {
  std::uint32_t code_point;  // kInvalidByte for a byte that is not well-formed UTF-8
  std::uint8_t length;       // bytes
  std::uint8_t classes;      // unicode::CharClass bits
};

bool is_line_break(Char c) { return c.code_point == '\r' || c.code_point == '\n'; }

// [^\s\p{L}\p{N}]: punctuation, symbols, emoji, marks, controls, invalid bytes.
bool is_other(Char c) {
  return (c.classes & (unicode::kSpace | unicode::kLetter | unicode::kNumber)) == 0;
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

class PieceMatcher {
 public:
  explicit PieceMatcher(std::string_view text) : text_(text) {}

  Char at(std::size_t pos) const {
    const auto byte = static_cast<unsigned char>(text_[pos]);
    if (byte < 0x80) return {byte, 1, unicode::classify(byte)};
    const utf8::Sequence seq = utf8::read_sequence(
        reinterpret_cast<const unsigned char*>(text_.data()) + pos, text_.size() - pos);
    if (seq.status != utf8::SequenceStatus::Valid) return {kInvalidByte, 1, 0};
    return {seq.code_point, static_cast<std::uint8_t>(seq.length), unicode::classify(seq.code_point)};
  }

  // End of the run of characters having `mask` that starts at `pos`.
  std::size_t run_end(std::size_t pos, std::uint8_t mask) const {
    while (pos < text_.size()) {
      const Char c = at(pos);
      if ((c.classes & mask) == 0) break;
      pos += c.length;
    }
    return pos;
  }

  // (?:'s|'t|'re|'ve|'m|'ll|'d)? after a word that ends at `pos`.
  std::size_t contraction_end(std::size_t pos) const {
    if (pos + 1 >= text_.size() || text_[pos] != '\'') return pos;
    const char first = ascii_lower(text_[pos + 1]);
    if (first == 's' || first == 't' || first == 'm' || first == 'd') return pos + 2;
    if (pos + 2 >= text_.size()) return pos;
    const char second = ascii_lower(text_[pos + 2]);
    if ((first == 'r' && second == 'e') || (first == 'v' && second == 'e') ||
        (first == 'l' && second == 'l'))
      return pos + 3;
    return pos;
  }

  // Alternative 1 after its optional prefix: [UpperSide]*[LowerSide]+ contraction?
  // UpperSide and LowerSide share Lm, Lo and M, so when the upper-side run is not
  // followed by a lower-side character the regex backtracks into the run and ends
  // the match after the run's last lower-side character.
  std::size_t upper_then_lower(std::size_t pos) const {
    std::size_t end = pos;
    std::size_t last_lower_side_end = kNoMatch;
    while (end < text_.size()) {
      const Char c = at(end);
      if ((c.classes & unicode::kUpperSide) == 0) break;
      end += c.length;
      if (c.classes & unicode::kLowerSide) last_lower_side_end = end;
    }
    if (end < text_.size() && (at(end).classes & unicode::kLowerSide))
      return contraction_end(run_end(end, unicode::kLowerSide));
    if (last_lower_side_end != kNoMatch) return contraction_end(last_lower_side_end);
    return kNoMatch;
  }

  // Alternative 2 after its optional prefix: [UpperSide]+[LowerSide]* contraction?
  std::size_t upper_then_optional_lower(std::size_t pos) const {
    if (pos >= text_.size() || (at(pos).classes & unicode::kUpperSide) == 0) return kNoMatch;
    const std::size_t upper_end = run_end(pos, unicode::kUpperSide);
    return contraction_end(run_end(upper_end, unicode::kLowerSide));
  }

  // Alternatives 1 and 2 with their optional prefix [^\r\n\p{L}\p{N}]: the regex
  // tries each alternative with the prefix, then without it, before the next one.
  std::size_t word(std::size_t start, Char first) const {
    const bool can_be_prefix =
        !is_line_break(first) && (first.classes & (unicode::kLetter | unicode::kNumber)) == 0;
    const std::size_t after_prefix = start + first.length;
    std::size_t end = kNoMatch;
    if (can_be_prefix && (end = upper_then_lower(after_prefix)) != kNoMatch) return end;
    if ((end = upper_then_lower(start)) != kNoMatch) return end;
    if (can_be_prefix && (end = upper_then_optional_lower(after_prefix)) != kNoMatch) return end;
    return upper_then_optional_lower(start);
  }

  // Alternative 3: \p{N}{1,3}
  std::size_t digits(std::size_t start) const {
    std::size_t end = start;
    for (int count = 0; count < 3 && end < text_.size(); ++count) {
      const Char c = at(end);
      if ((c.classes & unicode::kNumber) == 0) break;
      end += c.length;
    }
    return end == start ? kNoMatch : end;
  }

  // Alternative 4:  ?[^\s\p{L}\p{N}]+[\r\n/]*
  std::size_t punctuation(std::size_t start) const {
    std::size_t pos = start;
    if (text_[pos] == ' ' && pos + 1 < text_.size() && is_other(at(pos + 1))) ++pos;
    if (!is_other(at(pos))) return kNoMatch;
    while (pos < text_.size()) {
      const Char c = at(pos);
      if (!is_other(c)) break;
      pos += c.length;
    }
    while (pos < text_.size() && (text_[pos] == '\r' || text_[pos] == '\n' || text_[pos] == '/')) ++pos;
    return pos;
  }

  // Alternatives 5, 6 and 7 over one scan of the white-space run at `start`:
  //   \s*[\r\n]+   up to and including the run's last line break, if it has one;
  //   \s+(?!\S)    the whole run at the end of the text, else all but its last
  //                character (which then prefixes the following word);
  //   \s+          a single white-space character before non-space.
  std::size_t whitespace(std::size_t start) const {
    std::size_t end = start;
    std::size_t last_line_break_end = kNoMatch;
    std::size_t last_char_start = start;
    while (end < text_.size()) {
      const Char c = at(end);
      if ((c.classes & unicode::kSpace) == 0) break;
      last_char_start = end;
      end += c.length;
      if (is_line_break(c)) last_line_break_end = end;
    }
    if (end == start) return kNoMatch;
    if (last_line_break_end != kNoMatch) return last_line_break_end;
    if (end == text_.size()) return end;
    if (last_char_start > start) return last_char_start;
    return end;
  }

  std::size_t piece_end(std::size_t start) const {
    const Char first = at(start);
    std::size_t end = kNoMatch;
    if ((end = word(start, first)) != kNoMatch) return end;
    if ((end = digits(start)) != kNoMatch) return end;
    if ((end = punctuation(start)) != kNoMatch) return end;
    if ((end = whitespace(start)) != kNoMatch) return end;
    // Every character is a letter, mark, number, white space or "other", so one of
    // the alternatives always matches; this keeps progress guaranteed regardless.
    return start + first.length;
  }

 private:
  std::string_view text_;
};

}  // namespace

std::size_t piece_end(std::string_view text, std::size_t start) {
  return PieceMatcher(text).piece_end(start);
}

std::vector<std::string_view> split_pieces(std::string_view text) {
  std::vector<std::string_view> pieces;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = piece_end(text, pos);
    pieces.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return pieces;
}

}  // namespace ossdesk::o200k

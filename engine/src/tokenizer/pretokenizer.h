// The o200k pre-tokenizer: splits text into the pieces that BPE then merges
// independently. It is a hand-written matcher equivalent to the o200k_base pattern
// as JavaScript's RegExp (flags "gu") runs it:
//
//   [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?:'s|'t|'re|'ve|'m|'ll|'d)?
//   |[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?:'s|'t|'re|'ve|'m|'ll|'d)?
//   |\p{N}{1,3}
//   | ?[^\s\p{L}\p{N}]+[\r\n/]*
//   |\s*[\r\n]+
//   |\s+(?!\S)
//   |\s+
//
// with the contraction suffixes matched ASCII-case-insensitively ('S, 'Ll, 'VE, ...)
// as the reference encoder (gpt-tokenizer) spells them.
//
// Bytes that are not well-formed UTF-8 are each treated as one character that is
// not a letter, number, mark or white space (like punctuation), so any byte string
// splits into pieces that concatenate back to it exactly.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace ossdesk::o200k {

// The end (byte offset) of the piece that starts at `start` (< text.size()).
// Always > start.
std::size_t piece_end(std::string_view text, std::size_t start);

// All pieces of `text`, in order (for tests and tools; encode() walks piece_end()).
std::vector<std::string_view> split_pieces(std::string_view text);

}  // namespace ossdesk::o200k

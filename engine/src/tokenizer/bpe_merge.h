// Byte pair merging of one pre-tokenized piece, tiktoken's rule: while some adjacent
// pair of parts concatenates to a byte string that has a rank, merge the pair with
// the lowest rank (the leftmost one on a tie). The parts left are the tokens.
#pragma once

#include <string_view>
#include <vector>

#include "ossdesk/chat.h"
#include "tokenizer/rank_table.h"

namespace ossdesk::bpe {

// Appends the tokens of `piece` (non-empty) to `out`. Every single byte must have a
// rank (the tokenizer's builders check that). Picks the strategy by piece length.
void merge_piece(std::string_view piece, const RankTable& ranks, std::vector<TokenId>& out);

// The two strategies, public so tests can check they agree.
// Rescans all pairs after each merge: quadratic, fastest for the short pieces of text.
void merge_by_rescanning(std::string_view piece, const RankTable& ranks, std::vector<TokenId>& out);
// Keeps candidate pairs in a priority queue: n log n, for long runs of one class
// (thousands of spaces, a base64 blob) that would make rescanning quadratic.
void merge_with_queue(std::string_view piece, const RankTable& ranks, std::vector<TokenId>& out);

}  // namespace ossdesk::bpe

// Two implementations of the same merge rule; see bpe_merge.h.
#include "tokenizer/bpe_merge.h"

#include <cstdint>
#include <queue>

#include "ossdesk/error.h"

namespace ossdesk::bpe {
namespace {

constexpr std::uint32_t kNoRank = RankTable::kNoRank;

// Pieces up to this many bytes are merged by rescanning: nearly every piece of
// real text is far shorter, and there the rescans cost less than keeping a queue;
// past it, the quadratic rescans would dominate.
constexpr std::size_t kRescanLimit = 128;

void append_part(std::string_view part, const RankTable& ranks, std::vector<TokenId>& out) {
  const std::uint32_t rank = ranks.find(part);
  // Parts are single bytes or pairs that were found in the table, so this holds
  // whenever the vocabulary has all 256 single bytes (checked when it is built).
  if (rank == kNoRank) fail(ErrorKind::Internal, "tokenizer: BPE part has no rank");
  out.push_back(static_cast<TokenId>(rank));
}

}  // namespace

void merge_by_rescanning(std::string_view piece, const RankTable& ranks, std::vector<TokenId>& out) {
  // parts[i].start: byte offset where part i begins (a final sentinel at the end);
  // parts[i].pair_rank: rank of part i joined with part i + 1.
  struct Part {
    std::size_t start;
    std::uint32_t pair_rank;
  };
  std::vector<Part> parts;
  parts.reserve(piece.size() + 1);
  for (std::size_t i = 0; i <= piece.size(); ++i) parts.push_back({i, kNoRank});

  auto rank_of_pair = [&](std::size_t i) -> std::uint32_t {
    if (i + 2 >= parts.size()) return kNoRank;
    return ranks.find(piece.substr(parts[i].start, parts[i + 2].start - parts[i].start));
  };
  for (std::size_t i = 0; i + 2 < parts.size(); ++i) parts[i].pair_rank = rank_of_pair(i);

  while (parts.size() > 2) {
    std::uint32_t lowest = kNoRank;
    std::size_t at = 0;
    for (std::size_t i = 0; i + 2 < parts.size(); ++i) {
      if (parts[i].pair_rank < lowest) {
        lowest = parts[i].pair_rank;
        at = i;
      }
    }
    if (lowest == kNoRank) break;
    parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(at) + 1);
    parts[at].pair_rank = rank_of_pair(at);
    if (at > 0) parts[at - 1].pair_rank = rank_of_pair(at - 1);
  }

  for (std::size_t i = 0; i + 1 < parts.size(); ++i)
    append_part(piece.substr(parts[i].start, parts[i + 1].start - parts[i].start), ranks, out);
}

void merge_with_queue(std::string_view piece, const RankTable& ranks, std::vector<TokenId>& out) {
  const std::size_t n = piece.size();
  // Parts are named by their start offset; next_start[s] is where part s ends.
  // prev_start is valid for live parts only; dead parts were absorbed on their left.
  std::vector<std::size_t> next_start(n + 1);
  std::vector<std::size_t> prev_start(n + 1);
  std::vector<bool> alive(n + 1, true);
  for (std::size_t i = 0; i <= n; ++i) {
    next_start[i] = i + 1;
    prev_start[i] = i == 0 ? 0 : i - 1;
  }

  struct Candidate {
    std::uint32_t rank;
    std::size_t start;  // left part
    std::size_t end;    // end of the right part when the candidate was made
  };
  // Lowest rank first, then leftmost: exactly the order of the rescanning rule.
  auto later = [](const Candidate& a, const Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.start > b.start;
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(later)> queue(later);
  auto consider = [&](std::size_t start, std::size_t end) {
    const std::uint32_t rank = ranks.find(piece.substr(start, end - start));
    if (rank != kNoRank) queue.push({rank, start, end});
  };
  for (std::size_t i = 0; i + 2 <= n; ++i) consider(i, i + 2);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    // Stale when either side has merged since: the left part died, or the pair
    // now spans different bytes (and so may have a different rank).
    if (!alive[c.start]) continue;
    const std::size_t middle = next_start[c.start];
    if (middle >= n || next_start[middle] != c.end) continue;

    alive[middle] = false;
    next_start[c.start] = c.end;
    if (c.end < n) {
      prev_start[c.end] = c.start;
      consider(c.start, next_start[c.end]);
    }
    if (c.start > 0) consider(prev_start[c.start], c.end);
  }

  for (std::size_t s = 0; s < n; s = next_start[s])
    append_part(piece.substr(s, next_start[s] - s), ranks, out);
}

void merge_piece(std::string_view piece, const RankTable& ranks, std::vector<TokenId>& out) {
  if (piece.size() <= kRescanLimit)
    merge_by_rescanning(piece, ranks, out);
  else
    merge_with_queue(piece, ranks, out);
}

}  // namespace ossdesk::bpe

// Finds special-token text ("<|start|>") inside text to encode, tiktoken's way:
// the leftmost occurrence wins (the longest one if several start there).
#pragma once

#include <array>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ossdesk/chat.h"

namespace ossdesk {

class SpecialTokenMatcher {
 public:
  struct Match {
    std::size_t position;
    std::size_t length;
    TokenId id;
  };

  // Registers `text` (non-empty) for `id`. Returns the id it already had if the
  // text was registered before (and changes nothing), otherwise nullopt.
  std::optional<TokenId> add(std::string_view text, TokenId id);

  std::optional<TokenId> find_exact(std::string_view text) const;
  // The first special token that starts at or after `from`.
  std::optional<Match> find_next(std::string_view text, std::size_t from) const;

 private:
  std::deque<std::string> texts_;  // a deque never moves its elements: map keys view them
  std::unordered_map<std::string_view, TokenId> id_of_text_;
  std::vector<std::size_t> lengths_longest_first_;  // the distinct lengths of the texts
  std::array<bool, 256> is_first_byte_{};
};

}  // namespace ossdesk

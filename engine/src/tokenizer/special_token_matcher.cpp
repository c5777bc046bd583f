// Scans for bytes that can start a special token and, there, looks up each
// distinct special-token length: a handful of hash lookups per candidate, however
// many special tokens there are (o200k_harmony has 1091 names).
#include "tokenizer/special_token_matcher.h"

#include <algorithm>
#include <functional>

namespace ossdesk {

std::optional<TokenId> SpecialTokenMatcher::add(std::string_view text, TokenId id) {
  if (auto existing = find_exact(text)) return existing;
  texts_.emplace_back(text);
  id_of_text_.emplace(std::string_view(texts_.back()), id);
  is_first_byte_[static_cast<unsigned char>(text.front())] = true;
  if (std::find(lengths_longest_first_.begin(), lengths_longest_first_.end(), text.size()) ==
      lengths_longest_first_.end()) {
    lengths_longest_first_.push_back(text.size());
    std::sort(lengths_longest_first_.begin(), lengths_longest_first_.end(), std::greater<>());
  }
  return std::nullopt;
}

std::optional<TokenId> SpecialTokenMatcher::find_exact(std::string_view text) const {
  const auto it = id_of_text_.find(text);
  if (it == id_of_text_.end()) return std::nullopt;
  return it->second;
}

std::optional<SpecialTokenMatcher::Match> SpecialTokenMatcher::find_next(std::string_view text,
                                                                         std::size_t from) const {
  if (id_of_text_.empty()) return std::nullopt;
  for (std::size_t pos = from; pos < text.size(); ++pos) {
    if (!is_first_byte_[static_cast<unsigned char>(text[pos])]) continue;
    for (std::size_t length : lengths_longest_first_) {
      if (length > text.size() - pos) continue;
      const auto it = id_of_text_.find(text.substr(pos, length));
      if (it != id_of_text_.end()) return Match{pos, length, it->second};
    }
  }
  return std::nullopt;
}

}  // namespace ossdesk

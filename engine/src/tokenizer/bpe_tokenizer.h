// The one Tokenizer implementation: byte-level BPE over a vocabulary given as the
// bytes of every id. Non-special ids are BPE ranks (merge priority == id, as in
// tiktoken's o200k); special ids are matched as whole strings when allowed. All
// builders (tiktoken file, tokenizer.json, GGUF vocabulary) end here, so the
// vocabulary checks live in one place.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tokenizer/rank_table.h"
#include "tokenizer/special_token_matcher.h"
#include "tokenizer/tokenizer.h"

namespace ossdesk {

class BpeTokenizer final : public Tokenizer {
 public:
  // Throws ossdesk::Error (BadInput, prefixed with `source_name`) when the vocabulary
  // cannot be a byte-level BPE: sizes differ, an ordinary token is empty or a
  // duplicate, a special text names two ids, or a single byte has no token.
  // `special_aliases` are extra names for special ids (text, id).
  BpeTokenizer(std::vector<std::string> token_bytes, std::vector<bool> is_special,
               const std::vector<std::pair<std::string, TokenId>>& special_aliases,
               const std::string& source_name);

  std::vector<TokenId> encode(std::string_view text, bool allow_special) const override;
  std::string decode(std::span<const TokenId> ids) const override;
  const std::string& token_bytes(TokenId id) const override;
  bool is_special(TokenId id) const override;
  std::optional<TokenId> special_id(std::string_view text) const override;
  std::size_t vocab_size() const override { return token_bytes_.size(); }

 private:
  void encode_ordinary(std::string_view text, std::vector<TokenId>& out) const;
  void check_id(TokenId id) const;

  std::string source_name_;
  std::vector<std::string> token_bytes_;  // never resized after construction: ranks_ views it
  std::vector<bool> is_special_;
  RankTable ranks_;
  SpecialTokenMatcher specials_;
};

}  // namespace ossdesk

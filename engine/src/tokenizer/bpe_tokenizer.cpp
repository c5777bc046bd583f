// Vocabulary checks, encoding (split on allowed special tokens, pre-tokenize,
// look each piece up whole, else merge it) and decoding.
#include "tokenizer/bpe_tokenizer.h"

#include <cstdio>

#include "ossdesk/error.h"
#include "tokenizer/bpe_merge.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/printable.h"

namespace ossdesk {
namespace {

// Far above any real vocabulary (o200k_harmony: 201088 ids, longest token 128
// bytes), low enough that a hostile file cannot make us index past TokenId.
constexpr std::size_t kMaxVocabSize = std::size_t{1} << 24;
constexpr std::size_t kMaxTokenBytes = std::size_t{1} << 16;

std::string hex_byte(unsigned byte) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02X", byte);
  return text;
}

}  // namespace

BpeTokenizer::BpeTokenizer(std::vector<std::string> token_bytes, std::vector<bool> is_special,
                           const std::vector<std::pair<std::string, TokenId>>& special_aliases,
                           const std::string& source_name)
    : source_name_(source_name), token_bytes_(std::move(token_bytes)), is_special_(std::move(is_special)) {
  const std::string& src = source_name_;
  if (token_bytes_.size() != is_special_.size())
    fail_input(src + ": " + std::to_string(token_bytes_.size()) + " token strings but " +
               std::to_string(is_special_.size()) + " special flags; expected one flag per token");
  if (token_bytes_.empty()) fail_input(src + ": the vocabulary is empty");
  if (token_bytes_.size() > kMaxVocabSize)
    fail_input(src + ": " + std::to_string(token_bytes_.size()) + " tokens; expected at most " +
               std::to_string(kMaxVocabSize));

  std::size_t ordinary_count = 0;
  for (bool special : is_special_) ordinary_count += special ? 0 : 1;
  ranks_ = RankTable(ordinary_count);

  for (std::size_t i = 0; i < token_bytes_.size(); ++i) {
    const auto id = static_cast<TokenId>(i);
    const std::string& bytes = token_bytes_[i];
    const std::string what = src + ": token " + std::to_string(id);
    if (bytes.empty()) fail_input(what + " is empty; expected at least one byte");
    if (bytes.size() > kMaxTokenBytes)
      fail_input(what + " is " + std::to_string(bytes.size()) + " bytes long; expected at most " +
                 std::to_string(kMaxTokenBytes));
    if (is_special_[i]) {
      if (auto other = specials_.add(bytes, id))
        fail_input(what + " and token " + std::to_string(*other) + " are both the special token " +
                   printable(bytes) + "; expected each special text once");
    } else if (!ranks_.insert(bytes, static_cast<std::uint32_t>(id))) {
      fail_input(what + " and token " + std::to_string(ranks_.find(bytes)) + " have the same bytes " +
                 printable(bytes) + "; expected every ordinary token to be unique");
    }
  }
  for (unsigned byte = 0; byte < 256; ++byte) {
    const char single = static_cast<char>(byte);
    if (ranks_.find(std::string_view(&single, 1)) == RankTable::kNoRank)
      fail_input(src + ": no ordinary token is the single byte " + hex_byte(byte) +
                 "; byte-level BPE needs all 256 single bytes");
  }
  for (const auto& [text, id] : special_aliases) {
    if (text.empty() || id < 0 || static_cast<std::size_t>(id) >= token_bytes_.size() || !is_special_[id])
      fail_input(src + ": special alias " + printable(text) + " -> " + std::to_string(id) +
                 " does not name a special token");
    if (auto other = specials_.add(text, id); other && *other != id)
      fail_input(src + ": special alias " + printable(text) + " -> " + std::to_string(id) +
                 " is already the name of token " + std::to_string(*other));
  }
}

void BpeTokenizer::encode_ordinary(std::string_view text, std::vector<TokenId>& out) const {
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = o200k::piece_end(text, pos);
    const std::string_view piece = text.substr(pos, end - pos);
    const std::uint32_t whole = ranks_.find(piece);
    if (whole != RankTable::kNoRank)
      out.push_back(static_cast<TokenId>(whole));
    else
      bpe::merge_piece(piece, ranks_, out);
    pos = end;
  }
}

std::vector<TokenId> BpeTokenizer::encode(std::string_view text, bool allow_special) const {
  std::vector<TokenId> ids;
  ids.reserve(text.size() / 4 + 8);
  if (!allow_special) {
    encode_ordinary(text, ids);
    return ids;
  }
  std::size_t pos = 0;
  while (auto special = specials_.find_next(text, pos)) {
    encode_ordinary(text.substr(pos, special->position - pos), ids);
    ids.push_back(special->id);
    pos = special->position + special->length;
  }
  encode_ordinary(text.substr(pos), ids);
  return ids;
}

void BpeTokenizer::check_id(TokenId id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= token_bytes_.size())
    fail_input(source_name_ + ": token id " + std::to_string(id) + " is out of range; the vocabulary has ids 0.." +
               std::to_string(token_bytes_.size() - 1));
}

std::string BpeTokenizer::decode(std::span<const TokenId> ids) const {
  std::size_t total = 0;
  for (TokenId id : ids) {
    check_id(id);
    total += token_bytes_[static_cast<std::size_t>(id)].size();
  }
  std::string text;
  text.reserve(total);
  for (TokenId id : ids) text += token_bytes_[static_cast<std::size_t>(id)];
  return text;
}

const std::string& BpeTokenizer::token_bytes(TokenId id) const {
  check_id(id);
  return token_bytes_[static_cast<std::size_t>(id)];
}

bool BpeTokenizer::is_special(TokenId id) const {
  check_id(id);
  return is_special_[static_cast<std::size_t>(id)];
}

std::optional<TokenId> BpeTokenizer::special_id(std::string_view text) const { return specials_.find_exact(text); }

}  // namespace ossdesk

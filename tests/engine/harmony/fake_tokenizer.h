// A tiny stand-in for the o200k_harmony tokenizer, so the harmony tests need
// neither the real vocabulary nor the tokenizer module's code.
//
// Ids 0..255 are single bytes, the harmony formatting tokens have their real
// ids, and a test can add multi-byte tokens (ids from 1000) to split text the
// way BPE does, e.g. half a UTF-8 character. encode() records each call so a
// test can check how the renderer chunked its text.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ossdesk/error.h"
#include "tokenizer/tokenizer.h"

namespace ossdesk::test {

class FakeTokenizer : public Tokenizer {
 public:
  FakeTokenizer() {
    for (int b = 0; b < 256; ++b) tokens_[b] = std::string(1, static_cast<char>(b));
    const std::pair<TokenId, const char*> specials[] = {
        {199999, "<|endoftext|>"}, {200002, "<|return|>"}, {200003, "<|constrain|>"},
        {200005, "<|channel|>"},   {200006, "<|start|>"},  {200007, "<|end|>"},
        {200008, "<|message|>"},   {200012, "<|call|>"},   {200014, "<|reserved_200014|>"}};
    for (const auto& [id, text] : specials) {
      tokens_[id] = text;
      specials_[text] = id;
    }
  }

  // A vocabulary without one of the formatting tokens.
  void remove_special(const std::string& text) {
    auto it = specials_.find(text);
    if (it == specials_.end()) return;
    tokens_.erase(it->second);
    specials_.erase(it);
  }

  TokenId add_token(std::string bytes) {
    const TokenId id = next_id_++;
    tokens_[id] = std::move(bytes);
    return id;
  }

  // Text as byte ids; with allow_special, formatting-token text as their ids.
  std::vector<TokenId> encode(std::string_view text, bool allow_special) const override {
    calls_.push_back({std::string(text), allow_special});
    std::vector<TokenId> ids;
    std::size_t i = 0;
    while (i < text.size()) {
      bool matched = false;
      if (allow_special) {
        for (const auto& [s, id] : specials_) {
          if (text.substr(i, s.size()) == s) {
            ids.push_back(id);
            i += s.size();
            matched = true;
            break;
          }
        }
      }
      if (!matched) ids.push_back(static_cast<unsigned char>(text[i++]));
    }
    return ids;
  }

  std::string decode(std::span<const TokenId> ids) const override {
    std::string out;
    for (TokenId id : ids) out += token_bytes(id);
    return out;
  }

  const std::string& token_bytes(TokenId id) const override {
    auto it = tokens_.find(id);
    if (it == tokens_.end()) fail_input("fake tokenizer: no token " + std::to_string(id));
    return it->second;
  }

  bool is_special(TokenId id) const override {
    auto it = tokens_.find(id);
    return it != tokens_.end() && specials_.count(it->second) > 0;
  }

  std::optional<TokenId> special_id(std::string_view text) const override {
    auto it = specials_.find(std::string(text));
    if (it == specials_.end()) return std::nullopt;
    return it->second;
  }

  std::size_t vocab_size() const override { return 201088; }

  struct EncodeCall {
    std::string text;
    bool allow_special;
  };
  std::vector<EncodeCall>& calls() const { return calls_; }

  // Test helpers: ids of a text with formatting tokens recognised.
  std::vector<TokenId> ids(std::string_view text) const {
    std::vector<TokenId> out = encode(text, true);
    calls_.pop_back();
    return out;
  }

 private:
  std::map<TokenId, std::string> tokens_;
  std::map<std::string, TokenId> specials_;
  TokenId next_id_ = 1000;
  mutable std::vector<EncodeCall> calls_;
};

}  // namespace ossdesk::test

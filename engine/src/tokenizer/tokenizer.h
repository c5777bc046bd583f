// o200k_harmony: the byte-level BPE tokenizer of gpt-oss (201088 ids).
//
// Ids 0..199997 are the o200k_base ranks (merge priority == id); ids
// 199998..201087 are the harmony special tokens (<|startoftext|>, <|endoftext|>,
// <|return|>, <|constrain|>, <|channel|>, <|start|>, <|end|>, <|message|>,
// <|call|> and <|reserved_N|> for the rest).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ossdesk/chat.h"

namespace ossdesk {

class Tokenizer {
 public:
  // Builders. All throw ossdesk::Error (BadInput naming the file and what was wrong).
  // A `.tiktoken` rank file ("base64 rank" per line); the harmony specials are added.
  static std::unique_ptr<Tokenizer> from_tiktoken_file(const std::string& path);
  // A Hugging Face tokenizer.json (model.vocab with GPT-2 byte-level strings + added_tokens).
  static std::unique_ptr<Tokenizer> from_hf_tokenizer_json(const std::string& path);
  // The raw bytes of every id (index == id) and which ids are special (control) tokens;
  // used by the GGUF loader. Special tokens' bytes are their text, e.g. "<|start|>".
  static std::unique_ptr<Tokenizer> from_vocab(std::vector<std::string> token_bytes,
                                               std::vector<bool> is_special,
                                               const std::string& source_name);

  virtual ~Tokenizer() = default;

  // allow_special: special-token text ("<|start|>") becomes its id; otherwise it is
  // encoded as ordinary text (what user-typed text must get).
  virtual std::vector<TokenId> encode(std::string_view text, bool allow_special) const = 0;
  // Concatenated bytes of the ids (may end in the middle of a UTF-8 sequence).
  virtual std::string decode(std::span<const TokenId> ids) const = 0;
  virtual const std::string& token_bytes(TokenId id) const = 0;  // throws on out-of-range id
  virtual bool is_special(TokenId id) const = 0;
  virtual std::optional<TokenId> special_id(std::string_view text) const = 0;  // "<|end|>" -> 200007
  virtual std::size_t vocab_size() const = 0;
};

// Turns a stream of ids into text without ever emitting a broken UTF-8 sequence:
// bytes of an incomplete sequence are held back until it completes; invalid bytes
// become U+FFFD once it is clear they cannot complete.
class StreamingDecoder {
 public:
  explicit StreamingDecoder(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  std::string push(TokenId id);  // the text that became complete with this id (may be empty)
  std::string flush();           // whatever is held back, invalid tails as U+FFFD

 private:
  const Tokenizer& tokenizer_;
  std::string pending_;
};

}  // namespace ossdesk

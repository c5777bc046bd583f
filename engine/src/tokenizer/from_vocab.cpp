// Tokenizer::from_vocab: a vocabulary that is already raw bytes per id (the GGUF
// loader decodes tokenizer.ggml.tokens with gpt2_bytes_to_unicode_decode first).
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/harmony_specials.h"

namespace ossdesk {

std::unique_ptr<Tokenizer> Tokenizer::from_vocab(std::vector<std::string> token_bytes,
                                                 std::vector<bool> is_special,
                                                 const std::string& source_name) {
  auto aliases = harmony_specials::aliases_for(token_bytes, is_special);
  return std::make_unique<BpeTokenizer>(std::move(token_bytes), std::move(is_special), aliases, source_name);
}

}  // namespace ossdesk

#include "tokenizer_source.h"

#include "model/model.h"
#include "ossdesk/error.h"

namespace ossdesk::cli {

std::unique_ptr<Tokenizer> load_tokenizer_file(const std::string& path) {
  auto ends_with = [&](const char* suffix) {
    const std::string s(suffix);
    return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
  };
  if (ends_with(".json")) return Tokenizer::from_hf_tokenizer_json(path);
  if (ends_with(".gguf")) {
    auto model = Model::open(path);
    if (!model->tokenizer()) fail_input(model->tokenizer_problem());
    // The tokenizer does not point into the model's mapping; rebuild it on its own.
    std::vector<std::string> bytes(model->tokenizer()->vocab_size());
    std::vector<bool> special(bytes.size());
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      bytes[i] = model->tokenizer()->token_bytes(static_cast<TokenId>(i));
      special[i] = model->tokenizer()->is_special(static_cast<TokenId>(i));
    }
    return Tokenizer::from_vocab(std::move(bytes), std::move(special), path);
  }
  return Tokenizer::from_tiktoken_file(path);
}

}  // namespace ossdesk::cli

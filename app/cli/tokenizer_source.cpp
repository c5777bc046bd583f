#include "tokenizer_source.h"

#include "model/gguf.h"
#include "model/gguf_tokenizer.h"

namespace ossdesk::cli {

std::unique_ptr<Tokenizer> load_tokenizer_file(const std::string& path) {
  auto ends_with = [&](const char* suffix) {
    const std::string s(suffix);
    return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
  };
  if (ends_with(".json")) return Tokenizer::from_hf_tokenizer_json(path);
  if (ends_with(".gguf")) return tokenizer_from_gguf(GgufFile(path));
  return Tokenizer::from_tiktoken_file(path);
}

}  // namespace ossdesk::cli

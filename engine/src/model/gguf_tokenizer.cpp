#include "model/gguf_tokenizer.h"

#include "model/gguf.h"
#include "ossdesk/error.h"
#include "tokenizer/byte_level.h"

namespace ossdesk {

std::unique_ptr<Tokenizer> tokenizer_from_gguf(const GgufFile& g) {
  const GgufValue* model = g.find("tokenizer.ggml.model");
  if (!model) fail_input(g.path() + ": no tokenizer (metadata key 'tokenizer.ggml.model' is missing)");
  if (model->as_string("tokenizer.ggml.model") != "gpt2")
    fail(ErrorKind::Unsupported, g.path() + ": tokenizer.ggml.model is \"" + model->as_string("") + "\", expected \"gpt2\"");
  const auto& tokens = g.get("tokenizer.ggml.tokens").as_array("tokenizer.ggml.tokens");
  const GgufValue* types = g.find("tokenizer.ggml.token_type");
  if (types && types->as_array("tokenizer.ggml.token_type").size() != tokens.size())
    fail_input(g.path() + ": tokenizer.ggml.token_type has " + std::to_string(types->as_array("").size()) +
               " entries, tokenizer.ggml.tokens has " + std::to_string(tokens.size()));
  std::vector<std::string> bytes(tokens.size());
  std::vector<bool> special(tokens.size(), false);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string& text = tokens[i].as_string("tokenizer.ggml.tokens");
    // 3 = control, 4 = user-defined: stored as their literal text, not byte-level encoded.
    const std::int64_t type = types ? types->as_array("").at(i).as_int("tokenizer.ggml.token_type") : 1;
    special[i] = type == 3 || type == 4;
    bytes[i] = special[i] ? text : gpt2_bytes_to_unicode_decode(text);
  }
  return Tokenizer::from_vocab(std::move(bytes), std::move(special), g.path());
}

}  // namespace ossdesk

// The tokenizer files a model folder may ship, as arbitrary bytes: a
// tokenizer.json (Hugging Face) and a .tiktoken rank file. A tokenizer that
// loads must then encode and decode.
#include <cstdint>

#include "fuzz_support.h"
#include "tokenizer/tokenizer.h"

using namespace ossdesk;

namespace {

void use(const Tokenizer& tok) {
  const auto ids = tok.encode("Hi <|start|>user<|message|>caf\xc3\xa9 \xff", true);
  (void)tok.decode(ids);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The first byte picks the format so one corpus serves both loaders.
  if (size == 0) return 0;
  const bool json = data[0] % 2 == 0;
  const auto path = fuzz::write_scratch(json ? "tokenizer.json" : "vocab.tiktoken", data + 1, size - 1);
  fuzz::refusing_only_with_error([&] {
    auto tok = json ? Tokenizer::from_hf_tokenizer_json(path.string()) : Tokenizer::from_tiktoken_file(path.string());
    use(*tok);
  });
  return 0;
}

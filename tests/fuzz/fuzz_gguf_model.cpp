// Model::open on a GGUF file of arbitrary bytes: header, metadata of every
// type, tensor infos, hyperparameters, the tensor binding and the GGUF
// tokenizer. Of a model that opens, every tensor view must lie inside the
// file, and its tokenizer must encode.
#include <cstdint>

#include "fuzz_support.h"
#include "model/gguf.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

using namespace ossdesk;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::write_scratch("model.gguf", data, size);
  fuzz::refusing_only_with_error([&] {
    auto model = Model::open(path.string());
    (void)estimate_memory(model->config(), model->weights(), 4096, 2);
    // ASan does not watch mapped memory, so each view is checked against the
    // file's mapping by address.
    const auto file = reinterpret_cast<std::uintptr_t>(model->gguf()->file_data());
    for (const auto& t : model->tensors()) {
      const auto at = reinterpret_cast<std::uintptr_t>(t.data);
      if (at < file || at - file > size || t.nbytes > size - (at - file)) fuzz::property_failed("a tensor view lies outside the file");
    }
    if (const Tokenizer* tok = model->tokenizer()) {
      const auto ids = tok->encode("Hello <|start|>world\xe2\x82\xac", true);
      (void)tok->decode(ids);
    }
  });
  return 0;
}

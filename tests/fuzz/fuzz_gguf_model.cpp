// Model::open on a GGUF file of arbitrary bytes: header, metadata of every
// type, tensor infos, hyperparameters, the tensor binding and the GGUF
// tokenizer. Of a model that opens, each weight view must lie inside one
// stored tensor inside the file (weights_in_tensors.h), and its tokenizer
// must encode.
#include <cstdint>

#include "fuzz_support.h"
#include "model/gguf.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "weights_in_tensors.h"

using namespace ossdesk;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::write_scratch("model.gguf", data, size);
  fuzz::refusing_only_with_error([&] {
    auto model = Model::open(path.string());
    (void)estimate_memory(model->config(), model->weights(), 4096, 2);
    fuzz::WeightViewsCheck(model->tensors(), model->gguf()->file_data(), size).check(model->config(), model->weights());
    if (const Tokenizer* tok = model->tokenizer()) {
      const auto ids = tok->encode("Hello <|start|>world\xe2\x82\xac", true);
      (void)tok->decode(ids);
    }
  });
  return 0;
}

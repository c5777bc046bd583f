// Model::open on a Hugging Face folder whose model.safetensors is arbitrary
// bytes, beside the minimal model's config.json and tokenizer.json: the
// 8-byte header size, the JSON header, dtypes, shapes, offsets, and the
// binding of tensors to the config, whose views must each lie inside one
// stored tensor (weights_in_tensors.h).
#include <cstdint>

#include "fuzz_support.h"
#include "minimal_model.h"
#include "model/model.h"
#include "model/safetensors.h"
#include "weights_in_tensors.h"

using namespace ossdesk;

namespace {

// The minimal model written once into the scratch folder; each input then
// replaces its model.safetensors.
void write_minimal_folder() {
  static const bool written = [] {
    fuzz::write_minimal_model(fuzz::scratch_dir(), false, DType::Q8_0, *fuzz::minimal_tokenizer());
    return true;
  }();
  (void)written;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  write_minimal_folder();
  fuzz::write_scratch("model.safetensors", data, size);
  fuzz::refusing_only_with_error([&] {
    auto model = Model::open(fuzz::scratch_dir().string());
    (void)estimate_memory(model->config(), model->weights(), 4096, 2);
    const SafetensorsFile& file = *model->safetensors()->shards().at(0);
    fuzz::WeightViewsCheck(model->tensors(), file.file_data(), file.file_size()).check(model->config(), model->weights());
  });
  return 0;
}

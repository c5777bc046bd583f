// Model::open on a Hugging Face folder whose model.safetensors is arbitrary
// bytes, beside the minimal model's config.json and tokenizer.json: the
// 8-byte header size, the JSON header, dtypes, shapes, offsets, and the
// binding of tensors to the config.
#include <cstdint>
#include <filesystem>

#include "fuzz_support.h"
#include "minimal_model.h"
#include "model/model.h"
#include "model/synth.h"

using namespace ossdesk;

namespace {

// The minimal model written once into the scratch folder; each input then
// replaces its model.safetensors.
void write_minimal_folder() {
  static const bool written = [] {
    const auto tokenizer = fuzz::minimal_tokenizer();
    SynthOptions o;
    o.config = fuzz::minimal_config();
    o.out = fuzz::scratch_dir().string();
    o.tokenizer = tokenizer.get();
    synth_model(o);
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
    // Views are not checked by address here (the archive keeps its mappings
    // private); reading each one's ends faults when one crosses the end of
    // its mapping's last page. fuzz_gguf_model checks the GGUF views exactly.
    volatile std::uint8_t sink = 0;
    for (const auto& t : model->tensors())
      if (t.nbytes > 0) sink = sink + t.data[0] + t.data[t.nbytes - 1];
  });
  return 0;
}

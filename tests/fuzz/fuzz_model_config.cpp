// config_from_hf_json on arbitrary text: a config.json is the first file of a
// Hugging Face folder the app reads, before any size is known to be sane.
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "model/config.h"

using namespace ossdesk;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::refusing_only_with_error([&] { (void)config_from_hf_json(std::string(fuzz::as_text(data, size)), "config.json"); });
  return 0;
}

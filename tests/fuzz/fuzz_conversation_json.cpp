// conversation_from_json on arbitrary text, and rendering what it accepts:
// tool schemas of any shape go through schema_to_typescript, messages of any
// role/channel/recipient through the harmony renderer.
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "harmony/conversation_json.h"
#include "harmony/renderer.h"

using namespace ossdesk;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::refusing_only_with_error([&] {
    const Conversation conversation = harmony::conversation_from_json(std::string(fuzz::as_text(data, size)));
    (void)harmony::render_for_completion(conversation);
  });
  return 0;
}

// o200k_harmony on arbitrary bytes, with three properties beyond "no crash":
//  - encode(text) without specials decodes back to exactly `text` (any bytes,
//    valid UTF-8 or not: byte-level BPE loses nothing);
//  - StreamingDecoder fed those ids one at a time, then flushed, gives the
//    same text as harmony's sanitize_utf8 of the whole: a second, independent
//    implementation of "ill-formed sequences become U+FFFD per maximal subpart";
//  - encode with specials allowed gives ids the tokenizer can decode.
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "harmony/utf8_assembler.h"
#include "o200k.h"

using namespace ossdesk;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Tokenizer& tok = fuzz::o200k();
  const std::string_view text = fuzz::as_text(data, size);

  const auto ids = tok.encode(text, false);
  if (tok.decode(ids) != text) fuzz::property_failed("decode(encode(text)) != text");

  StreamingDecoder streaming(tok);
  std::string streamed;
  for (TokenId id : ids) streamed += streaming.push(id);
  streamed += streaming.flush();
  if (streamed != harmony::sanitize_utf8(text)) fuzz::property_failed("StreamingDecoder disagrees with sanitize_utf8");

  const auto with_specials = tok.encode(text, true);
  for (TokenId id : with_specials)
    if (id < 0 || static_cast<std::size_t>(id) >= tok.vocab_size()) fuzz::property_failed("encode gave an id outside the vocabulary");
  (void)tok.decode(with_specials);
  return 0;
}

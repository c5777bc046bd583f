// GPT-2's "byte-level" spelling of token bytes as printable Unicode text, used by
// Hugging Face tokenizer.json (model.vocab keys) and GGUF (tokenizer.ggml.tokens).
//
// Every byte maps to one code point: the printable bytes '!'..'~', U+00A1..U+00AC
// and U+00AE..U+00FF stand for themselves; the other 68 bytes (controls, space,
// DEL, U+0080..U+00A0, soft hyphen) map, in byte order, to U+0100, U+0101, ...
// So byte 0x20 (space) is written U+0120 'Ġ' and 0x0A (newline) U+010A 'Ċ'.
#pragma once

#include <string>
#include <string_view>

namespace ossdesk {

// Byte-level text (UTF-8) -> the raw bytes it spells. Throws ossdesk::Error
// (BadInput) naming the byte offset when the text is not well-formed UTF-8 or
// holds a code point that is not in the mapping; callers add the file and field.
std::string gpt2_bytes_to_unicode_decode(std::string_view byte_level_text);

// Raw bytes -> byte-level text (UTF-8); total, the inverse of the above.
std::string gpt2_unicode_encode(std::string_view bytes);

}  // namespace ossdesk

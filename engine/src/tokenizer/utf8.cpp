// UTF-8 reading per Unicode Table 3-7: the accepted range of the second byte
// depends on the lead byte; later continuation bytes are always 80..BF.
#include "tokenizer/utf8.h"

namespace ossdesk::utf8 {

Sequence read_sequence(const unsigned char* data, std::size_t size) {
  const unsigned char lead = data[0];
  if (lead < 0x80) return {SequenceStatus::Valid, 1, lead};

  std::size_t continuation_count = 0;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  std::uint32_t code_point = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    continuation_count = 1;
    code_point = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    continuation_count = 2;
    code_point = lead & 0x0F;
    if (lead == 0xE0) second_min = 0xA0;  // below: overlong
    if (lead == 0xED) second_max = 0x9F;  // above: UTF-16 surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    continuation_count = 3;
    code_point = lead & 0x07;
    if (lead == 0xF0) second_min = 0x90;  // below: overlong
    if (lead == 0xF4) second_max = 0x8F;  // above: beyond U+10FFFF
  } else {
    // A continuation byte without a lead, C0/C1 (always overlong) or F5..FF.
    return {SequenceStatus::Invalid, 1, 0};
  }

  for (std::size_t i = 1; i <= continuation_count; ++i) {
    if (i >= size) return {SequenceStatus::Truncated, size, 0};
    const unsigned char byte = data[i];
    const unsigned char min = i == 1 ? second_min : 0x80;
    const unsigned char max = i == 1 ? second_max : 0xBF;
    if (byte < min || byte > max) return {SequenceStatus::Invalid, i, 0};
    code_point = (code_point << 6) | (byte & 0x3F);
  }
  return {SequenceStatus::Valid, continuation_count + 1, code_point};
}

void append_code_point(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

}  // namespace ossdesk::utf8

// The GPT-2 byte <-> code point table, built once in both directions.
#include "tokenizer/byte_level.h"

#include <array>
#include <cstdio>
#include <cstdint>

#include "ossdesk/error.h"
#include "tokenizer/utf8.h"

namespace ossdesk {
namespace {

struct ByteLevelTables {
  std::array<std::uint16_t, 256> code_point_of_byte{};
  // Code points used are all below U+0144; index by code point, -1 = not a byte.
  std::array<std::int16_t, 0x144> byte_of_code_point{};
};

bool stands_for_itself(unsigned byte) {
  return (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) || (byte >= 0xAE && byte <= 0xFF);
}

const ByteLevelTables& tables() {
  static const ByteLevelTables t = [] {
    ByteLevelTables built;
    built.byte_of_code_point.fill(-1);
    std::uint16_t next_shifted = 0x100;
    for (unsigned byte = 0; byte < 256; ++byte) {
      const std::uint16_t cp = stands_for_itself(byte) ? static_cast<std::uint16_t>(byte) : next_shifted++;
      built.code_point_of_byte[byte] = cp;
      built.byte_of_code_point[cp] = static_cast<std::int16_t>(byte);
    }
    return built;
  }();
  return t;
}

}  // namespace

std::string gpt2_bytes_to_unicode_decode(std::string_view byte_level_text) {
  const ByteLevelTables& t = tables();
  std::string bytes;
  bytes.reserve(byte_level_text.size());
  const auto* data = reinterpret_cast<const unsigned char*>(byte_level_text.data());
  std::size_t pos = 0;
  while (pos < byte_level_text.size()) {
    const utf8::Sequence seq = utf8::read_sequence(data + pos, byte_level_text.size() - pos);
    if (seq.status != utf8::SequenceStatus::Valid)
      fail_input("byte-level text is not well-formed UTF-8 at byte " + std::to_string(pos));
    if (seq.code_point >= t.byte_of_code_point.size() || t.byte_of_code_point[seq.code_point] < 0) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "U+%04X", static_cast<unsigned>(seq.code_point));
      fail_input("byte-level text has " + std::string(hex) + " at byte " + std::to_string(pos) +
                 ", which is not one of the 256 GPT-2 byte characters");
    }
    bytes.push_back(static_cast<char>(t.byte_of_code_point[seq.code_point]));
    pos += seq.length;
  }
  return bytes;
}

std::string gpt2_unicode_encode(std::string_view bytes) {
  const ByteLevelTables& t = tables();
  std::string text;
  text.reserve(bytes.size() * 2);
  for (char byte : bytes) utf8::append_code_point(text, t.code_point_of_byte[static_cast<unsigned char>(byte)]);
  return text;
}

}  // namespace ossdesk

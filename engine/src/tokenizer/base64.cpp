// See base64.h. Rejecting non-canonical forms keeps one byte string per spelling,
// so a file cannot hide a duplicate token behind a different encoding.
#include "tokenizer/base64.h"

#include <array>
#include <cstdint>

namespace ossdesk {
namespace {

constexpr std::int8_t kInvalid = -1;

constexpr std::array<std::int8_t, 256> make_value_table() {
  std::array<std::int8_t, 256> table{};
  for (auto& v : table) v = kInvalid;
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  return table;
}
constexpr std::array<std::int8_t, 256> kValue = make_value_table();

}  // namespace

std::optional<std::string> decode_base64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  if (text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;

  std::string bytes;
  bytes.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last_group = i + 4 == text.size();
    const std::size_t data_chars = last_group ? 4 - padding : 4;
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      std::int8_t v = 0;
      if (j < data_chars) {
        v = kValue[static_cast<unsigned char>(text[i + j])];
        if (v == kInvalid) return std::nullopt;
      } else if (text[i + j] != '=') {
        return std::nullopt;
      }
      group = (group << 6) | static_cast<std::uint32_t>(v);
    }
    // Bits below the last whole byte must be zero in canonical base64.
    if (padding == 2 && last_group && (group & 0xFFFF) != 0) return std::nullopt;
    if (padding == 1 && last_group && (group & 0xFF) != 0) return std::nullopt;
    bytes.push_back(static_cast<char>(group >> 16));
    if (!last_group || padding < 2) bytes.push_back(static_cast<char>((group >> 8) & 0xFF));
    if (!last_group || padding < 1) bytes.push_back(static_cast<char>(group & 0xFF));
  }
  return bytes;
}

}  // namespace ossdesk

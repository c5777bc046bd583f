// See printable.h.
#include "tokenizer/printable.h"

#include <cstdio>

namespace ossdesk {

std::string printable(std::string_view bytes, std::size_t max_bytes) {
  std::string out = "\"";
  for (std::size_t i = 0; i < bytes.size() && i < max_bytes; ++i) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    if (byte == '"' || byte == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(byte));
    } else if (byte >= 0x20 && byte < 0x7F) {
      out.push_back(static_cast<char>(byte));
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", byte);
      out += escaped;
    }
  }
  out += bytes.size() > max_bytes ? "\"..." : "\"";
  return out;
}

}  // namespace ossdesk

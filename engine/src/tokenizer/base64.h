// Strict standard base64 (RFC 4648 alphabet, '=' padding), as .tiktoken files use.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ossdesk {

// nullopt unless `text` is canonical base64: a multiple of 4 characters from the
// standard alphabet, '=' only as the last one or two, no bits set in the padding.
std::optional<std::string> decode_base64(std::string_view text);

}  // namespace ossdesk

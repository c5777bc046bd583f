// Internal: UTF-8 and base64 helpers for carrying arbitrary text through JSON.
//
// SQLite stores whatever bytes it is given, and a model can emit invalid UTF-8
// (or a crash can cut a character in half), but JSON strings must be valid
// UTF-8. Lossless export therefore writes such text as {"base64": "..."}.
#pragma once

#include <cstdint>

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ossdesk::storage::detail {

bool is_valid_utf8(std::string_view text);
// Length of the longest prefix that does not end inside a multi-byte character.
std::size_t complete_utf8_prefix(std::string_view text);
// Number of code points (invalid bytes count one each).
std::size_t utf8_length(std::string_view text);

// `seconds` since the epoch, formatted in UTC with strftime's `format`.
std::string format_utc(std::int64_t seconds, const char* format);

std::string base64_encode(std::string_view bytes);
// Throws std::invalid_argument on characters outside the alphabet or bad padding.
std::string base64_decode(std::string_view text);

// Text as a JSON value: a string when valid UTF-8, otherwise {"base64": ...}.
nlohmann::ordered_json text_to_json(std::string_view text);
// The inverse; throws std::invalid_argument for anything else.
std::string text_from_json(const nlohmann::ordered_json& value);

}  // namespace ossdesk::storage::detail

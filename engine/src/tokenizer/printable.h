// Byte strings quoted for error messages: printable ASCII as is, everything else
// as \xNN, cut short so a hostile file cannot flood a message.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ossdesk {

std::string printable(std::string_view bytes, std::size_t max_bytes = 48);

}  // namespace ossdesk

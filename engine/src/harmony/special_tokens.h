// The harmony formatting tokens by name: the text each one has in the
// o200k_harmony vocabulary and the id it has there.
//
// The renderer and the stream parser look ids up through the Tokenizer
// (special_id) rather than hard-coding them, so a vocabulary that numbers them
// differently (a GGUF export, a test's fake) still works; the ids are listed
// here for tests and for readers of token dumps.
#pragma once

#include <string_view>

namespace ossdesk::harmony {

inline constexpr std::string_view kStart = "<|start|>";          // 200006
inline constexpr std::string_view kEnd = "<|end|>";              // 200007
inline constexpr std::string_view kMessage = "<|message|>";      // 200008
inline constexpr std::string_view kChannel = "<|channel|>";      // 200005
inline constexpr std::string_view kReturn = "<|return|>";        // 200002
inline constexpr std::string_view kCall = "<|call|>";            // 200012
inline constexpr std::string_view kConstrain = "<|constrain|>";  // 200003

inline constexpr int kStartId = 200006;
inline constexpr int kEndId = 200007;
inline constexpr int kMessageId = 200008;
inline constexpr int kChannelId = 200005;
inline constexpr int kReturnId = 200002;
inline constexpr int kCallId = 200012;
inline constexpr int kConstrainId = 200003;

}  // namespace ossdesk::harmony

// The deterministic "answer" storage_crash_writer streams, shared with the
// crash test so it can check that what survived a kill -9 is exactly a prefix
// of what was sent: no garbage, no reordering, nothing from the wrong channel.
#pragma once

#include <string>

namespace crash_stream {

inline constexpr const char* kQuestion = "Tell me a very long story, please.";
inline constexpr int kReasoningDeltas = 40;  // then the final channel starts

struct Delta {
  bool reasoning;
  std::string text;
};

inline Delta delta(int i) {
  if (i < kReasoningDeltas) return {true, "thought" + std::to_string(i) + " "};
  // Mix in multi-byte characters so UTF-8 boundaries are exercised.
  return {false, "wörd" + std::to_string(i) + (i % 7 == 0 ? "✓ " : " ")};
}

// The first `bytes` bytes (at least) of one channel's full text.
inline std::string expected_text(bool reasoning, std::size_t bytes) {
  std::string out;
  for (int i = 0; out.size() < bytes; ++i) {
    const Delta d = delta(i);
    if (d.reasoning == reasoning) out += d.text;
    if (reasoning && i >= kReasoningDeltas) break;
  }
  return out;
}

}  // namespace crash_stream

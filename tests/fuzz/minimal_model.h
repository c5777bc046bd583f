// The smallest gpt-oss model that opens: two layers of width 64, four experts
// and a 270-token byte-level vocabulary with the harmony specials. Its files are
// a few hundred KB, so the model fuzzers mutate headers and metadata rather
// than spend their time in megabytes of weights.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/dtype.h"
#include "model/synth.h"
#include "tokenizer/tokenizer.h"

namespace ossdesk::fuzz {

inline std::unique_ptr<Tokenizer> minimal_tokenizer() {
  std::vector<std::string> bytes;
  for (int b = 0; b < 256; ++b) bytes.push_back(std::string(1, static_cast<char>(b)));
  for (const char* merge : {"he", "ll", "llo", "hello", " w"}) bytes.push_back(merge);
  std::vector<bool> special(bytes.size(), false);
  for (const char* name : {"<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|constrain|>", "<|return|>",
                           "<|call|>", "<|endoftext|>", "<|startoftext|>"}) {
    bytes.push_back(name);
    special.push_back(true);
  }
  return Tokenizer::from_vocab(std::move(bytes), std::move(special), "minimal vocabulary");
}

inline ModelConfig minimal_config() {
  ModelConfig c;
  c.hidden_size = 64;
  c.intermediate_size = 64;
  c.num_layers = 2;
  c.num_heads = 2;
  c.num_kv_heads = 1;
  c.head_dim = 32;
  c.num_experts = 4;
  c.experts_per_token = 2;
  c.vocab_size = 270;
  c.sliding_window = 4;
  c.layer_is_sliding = {true, false};
  return c;
}

// The minimal model with `tokenizer` as a GGUF file or a Hugging Face folder at `out`.
inline void write_minimal_model(const std::filesystem::path& out, bool gguf, DType gguf_dense, const Tokenizer& tokenizer) {
  std::filesystem::create_directories(gguf ? out.parent_path() : out);
  SynthOptions o;
  o.config = minimal_config();
  o.gguf = gguf;
  o.out = out.string();
  o.seed = 1;
  o.tokenizer = &tokenizer;
  o.gguf_dense = gguf_dense;
  synth_model(o);
}

}  // namespace ossdesk::fuzz

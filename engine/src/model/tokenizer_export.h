// Writing a tokenizer into model files: GGUF `tokenizer.ggml.*` metadata (as
// llama.cpp's converter stores o200k: model "gpt2", pre "gpt-4o", byte-level
// token strings, token types, merges) and a Hugging Face tokenizer.json.
#pragma once

#include <string>
#include <vector>

namespace ossdesk {

class Tokenizer;
class GgufWriter;

// BPE merges ("left right" in byte-level text) reconstructed from ranks: each
// multi-byte token is split into the two tokens whose worse rank is best.
std::vector<std::string> merges_from_ranks(const Tokenizer& tokenizer);

void write_gguf_tokenizer(GgufWriter& writer, const Tokenizer& tokenizer);
std::string hf_tokenizer_json(const Tokenizer& tokenizer);

}  // namespace ossdesk

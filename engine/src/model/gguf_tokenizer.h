// The tokenizer stored in a GGUF file's tokenizer.ggml.* metadata (llama.cpp's
// "gpt2" model: byte-level token strings, token types 3/4 = special, kept as
// their literal text). Needs no weights, so a GGUF can serve as a tokenizer file.
#pragma once

#include <memory>

#include "tokenizer/tokenizer.h"

namespace ossdesk {

class GgufFile;

// Throws Error naming the file and the key when the metadata is missing or malformed.
std::unique_ptr<Tokenizer> tokenizer_from_gguf(const GgufFile& gguf);

}  // namespace ossdesk

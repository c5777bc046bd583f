// Where a subcommand's tokenizer comes from: --tokenizer FILE (.tiktoken,
// tokenizer.json or a .gguf with tokenizer metadata) or the model's own.
#pragma once

#include <memory>
#include <string>

#include "tokenizer/tokenizer.h"

namespace ossdesk::cli {

std::unique_ptr<Tokenizer> load_tokenizer_file(const std::string& path);

}  // namespace ossdesk::cli

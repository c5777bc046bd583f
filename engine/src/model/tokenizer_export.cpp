#include "model/tokenizer_export.h"

#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_map>

#include "model/gguf.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer.h"

namespace ossdesk {

std::vector<std::string> merges_from_ranks(const Tokenizer& tok) {
  std::unordered_map<std::string_view, TokenId> rank;
  const auto n = static_cast<TokenId>(tok.vocab_size());
  for (TokenId id = 0; id < n; ++id)
    if (!tok.is_special(id)) rank.emplace(tok.token_bytes(id), id);
  std::vector<std::string> merges;
  for (TokenId id = 0; id < n; ++id) {
    if (tok.is_special(id)) continue;
    const std::string& bytes = tok.token_bytes(id);
    if (bytes.size() < 2) continue;
    std::size_t best_split = 0;
    TokenId best = -1;
    for (std::size_t i = 1; i < bytes.size(); ++i) {
      auto a = rank.find(std::string_view(bytes).substr(0, i));
      auto b = rank.find(std::string_view(bytes).substr(i));
      if (a == rank.end() || b == rank.end()) continue;
      const TokenId worse = std::max(a->second, b->second);
      if (worse < id && (best < 0 || worse < best)) {
        best = worse;
        best_split = i;
      }
    }
    if (best < 0) continue;  // not reachable by merging (cannot happen for o200k)
    merges.push_back(gpt2_unicode_encode(bytes.substr(0, best_split)) + " " + gpt2_unicode_encode(bytes.substr(best_split)));
  }
  return merges;
}

void write_gguf_tokenizer(GgufWriter& w, const Tokenizer& tok) {
  const auto n = static_cast<TokenId>(tok.vocab_size());
  std::vector<GgufValue> tokens, types, merges;
  tokens.reserve(tok.vocab_size());
  types.reserve(tok.vocab_size());
  for (TokenId id = 0; id < n; ++id) {
    const bool special = tok.is_special(id);
    tokens.push_back(GgufValue::string(special ? tok.token_bytes(id) : gpt2_unicode_encode(tok.token_bytes(id))));
    types.push_back(GgufValue::signed_scalar(GgufType::I32, special ? 3 : 1));  // 3 = control, 1 = normal
  }
  for (auto& m : merges_from_ranks(tok)) merges.push_back(GgufValue::string(std::move(m)));
  w.set("tokenizer.ggml.model", GgufValue::string("gpt2"));
  w.set("tokenizer.ggml.pre", GgufValue::string("gpt-4o"));
  w.set("tokenizer.ggml.tokens", GgufValue::array(GgufType::String, std::move(tokens)));
  w.set("tokenizer.ggml.token_type", GgufValue::array(GgufType::I32, std::move(types)));
  w.set("tokenizer.ggml.merges", GgufValue::array(GgufType::String, std::move(merges)));
  auto id_of = [&](const char* text) { return tok.special_id(text); };
  if (auto id = id_of("<|startoftext|>")) w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(static_cast<std::uint32_t>(*id)));
  if (auto id = id_of("<|return|>")) w.set("tokenizer.ggml.eos_token_id", GgufValue::u32(static_cast<std::uint32_t>(*id)));
  if (auto id = id_of("<|endoftext|>")) w.set("tokenizer.ggml.padding_token_id", GgufValue::u32(static_cast<std::uint32_t>(*id)));
}

std::string hf_tokenizer_json(const Tokenizer& tok) {
  using json = nlohmann::ordered_json;
  // A plain (sorted) object for the 200k-entry vocabulary: ordered_json inserts in linear time.
  nlohmann::json vocab = nlohmann::json::object();
  json added = json::array();
  const auto n = static_cast<TokenId>(tok.vocab_size());
  for (TokenId id = 0; id < n; ++id) {
    if (tok.is_special(id)) {
      added.push_back({{"id", id}, {"content", tok.token_bytes(id)}, {"single_word", false}, {"lstrip", false},
                       {"rstrip", false}, {"normalized", false}, {"special", true}});
    } else {
      vocab[gpt2_unicode_encode(tok.token_bytes(id))] = id;
    }
  }
  json doc = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         json::array({{{"type", "Split"},
                       {"pattern",
                        {{"Regex",
                          "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
                          "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
                          "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}}},
                       {"behavior", "Isolated"},
                       {"invert", false}},
                      {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}})}}},
      {"post_processor", nullptr},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr},
        {"fuse_unk", false},
        {"byte_fallback", false},
        {"ignore_merges", false},
        {"vocab", vocab},
        {"merges", merges_from_ranks(tok)}}},
  };
  return doc.dump(1);
}

}  // namespace ossdesk

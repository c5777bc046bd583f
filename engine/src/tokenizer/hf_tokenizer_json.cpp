// Tokenizer::from_hf_tokenizer_json: a Hugging Face tokenizer.json of a byte-level
// BPE. model.vocab maps GPT-2 byte-level strings to ids (for o200k the id is the
// BPE rank, so "merges" is not needed); added_tokens holds the special tokens.
//
// Every added token is treated as special: matched as a whole only when the caller
// allows special tokens, never produced from ordinary text.
#include <nlohmann/json.hpp>

#include "ossdesk/error.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/harmony_specials.h"
#include "tokenizer/printable.h"
#include "util/json_input.h"
#include "util/mapped_file.h"

namespace ossdesk {
namespace {

using Json = nlohmann::json;

struct Entry {
  std::string bytes;
  bool special = false;
  bool present = false;
  std::string origin;  // "model.vocab[...]" or "added_tokens[i]", for messages
};

// Ids must be 0..listed-1 (no gaps), so a larger one is an error before it can
// make us allocate for it.
std::size_t parse_id(const Json& value, std::size_t listed, const std::string& where) {
  if (!value.is_number_integer())
    fail_input(where + ": expected an integer id, found " + std::string(value.type_name()));
  const bool in_range = value.is_number_unsigned() ? value.get<std::uint64_t>() < listed
                                                   : value.get<std::int64_t>() >= 0 &&
                                                         static_cast<std::uint64_t>(value.get<std::int64_t>()) < listed;
  if (!in_range)
    fail_input(where + ": id " + value.dump() + " is out of range; the file lists " + std::to_string(listed) +
               " tokens, so ids must be 0.." + std::to_string(listed == 0 ? 0 : listed - 1));
  return static_cast<std::size_t>(value.get<std::uint64_t>());
}

void place(std::vector<Entry>& entries, std::size_t id, Entry entry, const std::string& path) {
  if (id >= entries.size()) entries.resize(id + 1);
  Entry& slot = entries[id];
  if (slot.present) {
    // Hugging Face files may list an added token in model.vocab too; that is the
    // same token, as long as the bytes agree.
    if (slot.bytes != entry.bytes)
      fail_input(path + ": " + entry.origin + " gives id " + std::to_string(id) + " the bytes " +
                 printable(entry.bytes) + " but " + slot.origin + " already gave it " + printable(slot.bytes));
    slot.special = slot.special || entry.special;
    return;
  }
  entry.present = true;
  slot = std::move(entry);
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_hf_tokenizer_json(const std::string& path) {
  Json root;
  {
    const MappedFile file(path);
    const char* begin = reinterpret_cast<const char*>(file.data());
    root = parse_json_input<Json>({begin, file.size()}, path);
  }
  if (!root.is_object()) fail_input(path + ": expected a JSON object at the top level");
  const auto model = root.find("model");
  if (model == root.end() || !model->is_object()) fail_input(path + ": missing object \"model\"");
  if (const auto type = model->find("type"); type != model->end() && *type != "BPE")
    fail_input(path + ": model.type is " + type->dump() + "; expected \"BPE\"");
  const auto vocab = model->find("vocab");
  if (vocab == model->end() || !vocab->is_object())
    fail_input(path + ": missing object \"model.vocab\" (byte-level token -> id)");

  const auto added = root.find("added_tokens");
  const bool has_added = added != root.end() && !added->is_null();
  if (has_added && !added->is_array())
    fail_input(path + ": \"added_tokens\" is " + std::string(added->type_name()) + "; expected an array");
  const std::size_t listed = vocab->size() + (has_added ? added->size() : 0);

  std::vector<Entry> entries;
  entries.reserve(listed);
  for (const auto& [key, value] : vocab->items()) {
    const std::string where = "model.vocab[" + printable(key) + "]";
    const std::size_t id = parse_id(value, listed, path + ": " + where);
    std::string bytes;
    try {
      bytes = gpt2_bytes_to_unicode_decode(key);
    } catch (const Error& e) {
      fail_input(path + ": " + where + ": " + e.what());
    }
    place(entries, id, Entry{std::move(bytes), false, false, where}, path);
  }

  if (has_added) {
    for (std::size_t i = 0; i < added->size(); ++i) {
      const Json& token = (*added)[i];
      const std::string where = "added_tokens[" + std::to_string(i) + "]";
      if (!token.is_object()) fail_input(path + ": " + where + ": expected an object");
      const auto id = token.find("id");
      const auto content = token.find("content");
      if (id == token.end()) fail_input(path + ": " + where + ": missing \"id\"");
      if (content == token.end() || !content->is_string())
        fail_input(path + ": " + where + ": missing string \"content\"");
      place(entries, parse_id(*id, listed, path + ": " + where + ".id"),
            Entry{content->get<std::string>(), true, false, where}, path);
    }
  }

  std::vector<std::string> token_bytes;
  std::vector<bool> is_special;
  token_bytes.reserve(entries.size());
  is_special.reserve(entries.size());
  for (std::size_t id = 0; id < entries.size(); ++id) {
    if (!entries[id].present)
      fail_input(path + ": id " + std::to_string(id) + " has no token (neither in model.vocab nor in added_tokens); "
                 "expected ids 0.." + std::to_string(entries.size() - 1) + " without gaps");
    token_bytes.push_back(std::move(entries[id].bytes));
    is_special.push_back(entries[id].special);
  }
  auto aliases = harmony_specials::aliases_for(token_bytes, is_special);
  return std::make_unique<BpeTokenizer>(std::move(token_bytes), std::move(is_special), aliases, path);
}

}  // namespace ossdesk

// `tokenize` and `detokenize`: the o200k_harmony tokenizer from a model or a
// tokenizer file; ids comma-separated on the last line.
#include <cstdio>

#include "commands.h"
#include "common.h"
#include "ossdesk/error.h"
#include "tokenizer_source.h"
#include "util/mapped_file.h"

namespace ossdesk::cli {

namespace {

// Either --tokenizer FILE or the tokenizer inside --model.
struct TokenizerHandle {
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> own;
  const Tokenizer* get() const { return own ? own.get() : model->tokenizer(); }
};

TokenizerHandle open_tokenizer(const Args& args) {
  args.require_one_of({"model", "tokenizer"});
  TokenizerHandle h;
  if (args.has("tokenizer")) {
    h.own = load_tokenizer_file(args.get("tokenizer"));
  } else {
    h.model = Model::open(args.get("model"));
    if (!h.model->tokenizer()) fail_input(h.model->tokenizer_problem());
  }
  return h;
}

}  // namespace

int cmd_tokenize(const Argv& argv) {
  Args args("tokenize", argv, {"model", "tokenizer", "text", "file"}, {"allow-special"});
  args.require_one_of({"text", "file"});
  const std::string text = args.has("text") ? args.get("text") : read_text_file(args.get("file"));
  TokenizerHandle h = open_tokenizer(args);
  const auto ids = h.get()->encode(text, args.flag("allow-special"));
  std::printf("%zu tokens\n%s\n", ids.size(), join_ids(ids).c_str());
  return 0;
}

int cmd_detokenize(const Argv& argv) {
  Args args("detokenize", argv, {"model", "tokenizer", "ids"}, {});
  const auto ids = parse_id_list(args.get("ids"), "--ids");
  TokenizerHandle h = open_tokenizer(args);
  for (TokenId id : ids)
    if (id < 0 || static_cast<std::size_t>(id) >= h.get()->vocab_size())
      fail_input("detokenize: id " + std::to_string(id) + " is outside the vocabulary (0.." +
                 std::to_string(h.get()->vocab_size() - 1) + ")");
  const std::string text = h.get()->decode(ids);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::printf("\n");
  return 0;
}

}  // namespace ossdesk::cli

// `render`: a conversation (the JSON input format of tests/data/harmony) to the
// exact harmony prompt text, or to token ids with --ids.
#include <cstdio>

#include "commands.h"
#include "common.h"
#include "harmony/conversation_json.h"
#include "harmony/renderer.h"
#include "ossdesk/error.h"
#include "tokenizer_source.h"
#include "util/mapped_file.h"

namespace ossdesk::cli {

int cmd_render(const Argv& argv) {
  Args args("render", argv, {"messages", "model", "tokenizer"}, {"ids"});
  const std::string path = args.get("messages");
  Conversation conv;
  try {
    conv = harmony::conversation_from_json(read_text_file(path));
  } catch (const Error& e) {
    throw Error(e.kind(), path + ": " + e.what());
  }
  if (!args.flag("ids")) {
    const std::string text = harmony::render_for_completion(conv);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> own;
  const Tokenizer* tok = nullptr;
  if (args.has("tokenizer")) {
    own = load_tokenizer_file(args.get("tokenizer"));
    tok = own.get();
  } else if (args.has("model")) {
    model = Model::open(args.get("model"));
    if (!model->tokenizer()) fail_input(model->tokenizer_problem());
    tok = model->tokenizer();
  } else {
    fail_input("render: --ids needs a tokenizer: give --model PATH or --tokenizer FILE");
  }
  const auto ids = harmony::render_tokens(conv, *tok);
  std::printf("%zu tokens\n%s\n", ids.size(), join_ids(ids).c_str());
  return 0;
}

}  // namespace ossdesk::cli

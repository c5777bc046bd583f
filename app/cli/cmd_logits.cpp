// `logits`: one forward pass over the given tokens at positions 0..T-1; the
// logits of every position go to a safetensors file (`logits` F32 [T, V]).
#include <cstdio>

#include "commands.h"
#include "common.h"
#include "model/safetensors.h"

namespace ossdesk::cli {

int cmd_logits(const Argv& argv) {
  Args args("logits", argv, with_backend_options({"model", "tokens", "out"}), {"profile"});
  const std::vector<TokenId> tokens = parse_id_list(args.get("tokens"), "--tokens");
  const std::string out = args.get("out");
  LoadedModel lm = load_model(args, static_cast<int>(tokens.size()), "cpu", args.flag("profile"));
  const auto V = static_cast<std::size_t>(lm.model->config().vocab_size);
  std::vector<float> logits(tokens.size() * V);
  lm.backend->forward(tokens, LogitsMode::All, logits.data());
  if (args.flag("profile")) print_profile(*lm.backend);
  SafetensorsWriter writer(out, {{"logits", DType::F32, {tokens.size(), V}, logits.size() * sizeof(float)}});
  writer.write(logits.data(), logits.size() * sizeof(float));
  writer.finish();
  std::printf("wrote %s: logits [%zu, %zu] (%s on %s)\n", out.c_str(), tokens.size(), V, lm.choice.name.c_str(),
              lm.backend->device().name.c_str());
  return 0;
}

}  // namespace ossdesk::cli

// `complete`: token ids in, generated token ids out (comma-separated on the
// last line). No chat format: the prompt is exactly the given ids.
#include <cstdio>

#include "commands.h"
#include "common.h"
#include "ossdesk/error.h"
#include "runtime/generator.h"

namespace ossdesk::cli {

int cmd_complete(const Argv& argv) {
  Args args("complete", argv, with_backend_options({"model", "tokens", "max-tokens", "temperature", "top-k", "top-p", "min-p", "seed"}), {"profile"});
  const std::vector<TokenId> prompt = parse_id_list(args.get("tokens"), "--tokens");
  GenerationRequest req;
  req.prompt = prompt;
  req.max_tokens = args.get_int("max-tokens", 16);
  if (req.max_tokens < 1) throw Error(ErrorKind::BadInput, "complete: --max-tokens must be at least 1");
  req.sampling.temperature = static_cast<float>(args.get_double("temperature", 0.0));
  req.sampling.top_k = args.get_int("top-k", 0);
  req.sampling.top_p = static_cast<float>(args.get_double("top-p", 1.0));
  req.sampling.min_p = static_cast<float>(args.get_double("min-p", 0.0));
  req.sampling.seed = static_cast<std::uint64_t>(args.get_int("seed", 0));
  LoadedModel lm = load_model(args, static_cast<int>(prompt.size()) + req.max_tokens, "cpu", args.flag("profile"));
  KvSequence seq(*lm.backend);
  GenerationResult r = generate(seq, req, nullptr);
  if (args.flag("profile")) print_profile(*lm.backend);
  std::fprintf(stderr, "%d prompt tokens, %d generated; prefill %.1f tok/s, decode %.1f tok/s (%s)\n",
               r.timings.prompt_tokens, r.timings.generated_tokens, r.timings.prefill_tokens_per_s(),
               r.timings.decode_tokens_per_s(), lm.choice.name.c_str());
  std::printf("%s\n", join_ids(r.tokens).c_str());
  return 0;
}

}  // namespace ossdesk::cli

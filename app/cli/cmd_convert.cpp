// `convert`: a Hugging Face gpt-oss folder to one GGUF file (see model/convert.h).
#include <cstdio>

#include "commands.h"
#include "common.h"
#include "model/convert.h"

namespace ossdesk::cli {

int cmd_convert(const Argv& argv) {
  Args args("convert", argv, {"model", "out"}, {"quiet"});
  auto model = Model::open(args.get("model"));
  const bool quiet = args.flag("quiet");
  int last = -1;
  const std::uint64_t bytes = convert_to_gguf(*model, args.get("out"), [&](std::uint64_t done, std::uint64_t total) {
    const int percent = static_cast<int>(done * 100 / std::max<std::uint64_t>(1, total));
    if (!quiet && percent != last && percent % 5 == 0) std::fprintf(stderr, "\rconvert: %3d%%", last = percent);
  });
  if (!quiet) std::fprintf(stderr, "\n");
  std::printf("wrote %s (%s)%s\n", args.get("out").c_str(), human_bytes(bytes).c_str(),
              model->tokenizer() ? "" : ("; no tokenizer: " + model->tokenizer_problem()).c_str());
  return 0;
}

}  // namespace ossdesk::cli

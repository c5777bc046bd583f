// `synth`: random weights in the real gpt-oss shapes (see model/synth.h).
#include <chrono>
#include <cstdio>

#include "commands.h"
#include "common.h"
#include "model/synth.h"
#include "ossdesk/error.h"
#include "tokenizer_source.h"

namespace ossdesk::cli {

int cmd_synth(const Argv& argv) {
  Args args("synth", argv, {"preset", "format", "out", "seed", "tokenizer", "dense"}, {"quiet"});
  SynthOptions o;
  o.config = config_preset(args.get("preset"));
  const std::string format = args.get_or("format", "gguf");
  if (format != "hf" && format != "gguf") fail_input("synth: --format must be hf or gguf, found '" + format + "'");
  o.gguf = format == "gguf";
  o.out = args.get("out");
  o.seed = static_cast<std::uint64_t>(args.get_int("seed", 0));
  const std::string dense = args.get_or("dense", "q8_0");
  if (dense == "q8_0") o.gguf_dense = DType::Q8_0;
  else if (dense == "bf16") o.gguf_dense = DType::BF16;
  else fail_input("synth: --dense must be q8_0 or bf16, found '" + dense + "'");
  std::unique_ptr<Tokenizer> tokenizer;
  if (args.has("tokenizer")) {
    tokenizer = load_tokenizer_file(args.get("tokenizer"));
    o.tokenizer = tokenizer.get();
  }
  const bool quiet = args.flag("quiet");
  int last_percent = -1;
  o.progress = [&](std::uint64_t done, std::uint64_t total) {
    const int percent = static_cast<int>(done * 100 / std::max<std::uint64_t>(1, total));
    if (!quiet && percent != last_percent && percent % 5 == 0) {
      std::fprintf(stderr, "\rsynth: %3d%%", percent);
      last_percent = percent;
    }
  };
  const auto start = std::chrono::steady_clock::now();
  const std::uint64_t bytes = synth_model(o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!quiet) std::fprintf(stderr, "\n");
  std::printf("wrote %s (%s, %s, preset %s%s) in %.1f s\n", o.out.c_str(), format.c_str(), human_bytes(bytes).c_str(),
              args.get("preset").c_str(), o.tokenizer ? ", tokenizer included" : ", no tokenizer", seconds);
  return 0;
}

}  // namespace ossdesk::cli

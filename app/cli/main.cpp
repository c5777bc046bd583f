// ossdesk-cli: subcommand dispatch and the one place errors become exit codes.
// Bad input (a missing, truncated or hostile file, a wrong argument) prints one
// line to stderr and exits 2; other failures exit 1.
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>

#include "commands.h"
#include "ossdesk/error.h"

namespace {

void usage() {
  std::fputs(
      "usage: ossdesk-cli <command> [options]\n"
      "commands:\n"
      "  logits    --model PATH --tokens 1,2,3 [--backend cpu] [--device N] [--profile] --out FILE\n"
      "  complete  --model PATH --tokens 1,2,3 --max-tokens N [--temperature 0] [--backend B] [--device N] [--profile]\n"
      "  info      --model PATH [--context N] [--json]\n"
      "  tokenize  (--model PATH | --tokenizer FILE) (--text STR | --file PATH) [--allow-special]\n"
      "  detokenize (--model PATH | --tokenizer FILE) --ids 1,2,3\n"
      "  render    --messages FILE.json [--ids (--model PATH | --tokenizer FILE)]\n"
      "  generate  --model PATH --prompt STR [--system STR] [--reasoning low|medium|high] [--temperature T]\n"
      "            [--max-tokens N] [--backend B] [--device N] [--json] [--profile]\n"
      "  chat      --model PATH --db FILE [--conversation ID] --message STR [--reasoning R] [--max-tokens N] [--backend B]\n"
      "  history   --db FILE [--conversation ID] [--search STR] --json\n"
      "  bench     --model PATH [--backend B] [--pp 512] [--tg 128] [--runs 3] [--depth N] [--temperature T] [--peak-gbps G] [--json] [--profile]\n"
      "  convert   --model HF_DIR --out FILE.gguf\n"
      "  synth     --preset tiny|20b|120b --format hf|gguf --out PATH [--seed N] [--tokenizer FILE] [--dense q8_0|bf16]\n"
      "engine options (logits, complete, generate, chat, bench):\n"
      "  --backend auto|cuda|vulkan|cpu  --device N  --context N  --batch N\n"
      "  --threads N   cpu backend threads (default: one per physical core this process may use)\n",
      stderr);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ossdesk;
  const std::map<std::string, std::function<int(const cli::Argv&)>> commands = {
      {"logits", cli::cmd_logits},
      {"complete", cli::cmd_complete},
      {"info", cli::cmd_info},
      {"synth", cli::cmd_synth},
      {"convert", cli::cmd_convert},
      {"tokenize", cli::cmd_tokenize},
      {"detokenize", cli::cmd_detokenize},
      {"render", cli::cmd_render},
      {"generate", cli::cmd_generate},
      {"bench", cli::cmd_bench},
      {"chat", cli::cmd_chat},
      {"history", cli::cmd_history},
  };
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    usage();
    return argc < 2 ? 2 : 0;
  }
  auto it = commands.find(argv[1]);
  if (it == commands.end()) {
    std::fprintf(stderr, "ossdesk-cli: unknown command '%s'\n", argv[1]);
    usage();
    return 2;
  }
  try {
    return it->second(cli::Argv(argv + 2, argv + argc));
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    // The engine says what did not fit; what to do about it is the caller's
    // to say (the app words it for its settings).
    if (e.kind() == ErrorKind::OutOfMemory)
      std::fprintf(stderr, "  a shorter --context, a smaller model or another --backend (cpu) may fit\n");
    switch (e.kind()) {
      case ErrorKind::BadInput:
      case ErrorKind::Unsupported:
      case ErrorKind::Io: return 2;
      case ErrorKind::Cancelled: return 130;
      default: return 1;
    }
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

// One function per ossdesk-cli subcommand; each returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace ossdesk::cli {

using Argv = std::vector<std::string>;

int cmd_logits(const Argv& argv);
int cmd_complete(const Argv& argv);
int cmd_info(const Argv& argv);
int cmd_synth(const Argv& argv);
int cmd_convert(const Argv& argv);
int cmd_tokenize(const Argv& argv);
int cmd_detokenize(const Argv& argv);
int cmd_render(const Argv& argv);
int cmd_generate(const Argv& argv);
int cmd_bench(const Argv& argv);
int cmd_chat(const Argv& argv);
int cmd_history(const Argv& argv);

}  // namespace ossdesk::cli

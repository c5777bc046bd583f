// `info`: what a model file is (format, config, tensor types, size) and how
// much memory it needs at a context length.
#include <cmath>
#include <cstdio>
#include <map>

#include "commands.h"
#include "common.h"
#include "model/gguf.h"
#include "tokenizer/tokenizer.h"

namespace ossdesk::cli {

int cmd_info(const Argv& argv) {
  Args args("info", argv, {"model", "context"}, {"json"});
  auto model = Model::open(args.get("model"));
  const ModelConfig& c = model->config();
  const int context = args.get_int("context", c.max_context);
  std::map<std::string, std::pair<int, std::uint64_t>> types;  // dtype -> (count, bytes)
  for (const auto& t : model->tensors()) {
    auto& e = types[dtype_name(t.dtype)];
    e.first += 1;
    e.second += t.nbytes;
  }
  std::printf("model:      %s\n", model->path().c_str());
  std::printf("format:     %s\n", model->format_name());
  std::printf("file size:  %s (%llu bytes)\n", human_bytes(model->file_bytes()).c_str(),
              static_cast<unsigned long long>(model->file_bytes()));
  std::printf("config:     %d layers, hidden %d, %d q heads / %d kv heads x %d, %d experts (top-%d) of width %d\n",
              c.num_layers, c.hidden_size, c.num_heads, c.num_kv_heads, c.head_dim, c.num_experts, c.experts_per_token,
              c.intermediate_size);
  std::printf("            vocab %d, sliding window %d, context %d, rope theta %g, yarn factor %g over %d\n", c.vocab_size,
              c.sliding_window, c.max_context, c.rope_theta, c.rope_scaling_factor, c.rope_original_context);
  std::printf("tensors:   ");
  for (const auto& [name, e] : types) std::printf(" %s x%d (%s)", name.c_str(), e.first, human_bytes(e.second).c_str());
  std::printf("\n");
  std::printf("tokenizer:  %s\n", model->tokenizer() ? (std::to_string(model->tokenizer()->vocab_size()) + " tokens").c_str()
                                                      : model->tokenizer_problem().c_str());
  const MemoryEstimate f32 = estimate_memory(c, model->weights(), context, 4);
  const MemoryEstimate f16 = estimate_memory(c, model->weights(), context, 2);
  std::printf("memory at context %d: weights %s + KV cache %s (f16; %s as f32 on the CPU) + scratch %s = %s\n", context,
              human_bytes(f16.weights).c_str(), human_bytes(f16.kv_cache).c_str(), human_bytes(f32.kv_cache).c_str(),
              human_bytes(f16.scratch).c_str(), human_bytes(f16.total()).c_str());
  std::printf("weights read per token: %s\n", human_bytes(model->weights().bytes_read_per_token(c)).c_str());
  // Each backend of this build with its devices, or why it has none; then what `auto` would pick.
  std::printf("backends:\n");
  for (const auto& b : available_backends()) {
    std::string why;
    const auto devices = list_devices(b, false, &why);
    if (devices.empty()) std::printf("  %-7s none: %s\n", b.c_str(), why.c_str());
    for (const DeviceInfo& d : devices) {
      std::string bandwidth;
      if (d.memory_bandwidth_bytes_per_s > 0)
        bandwidth = ", " + std::to_string(static_cast<long long>(std::llround(static_cast<double>(d.memory_bandwidth_bytes_per_s) / 1e9))) +
                    " GB/s peak";
      std::printf("  %-7s [%d] %s (%s, %s%s)\n", b.c_str(), d.index, d.name.c_str(), d.type.c_str(), human_bytes(d.memory_bytes).c_str(),
                  bandwidth.c_str());
    }
    if (const std::string library = backend_library(b); !library.empty()) std::printf("          from %s\n", library.c_str());
  }
  return 0;
}

}  // namespace ossdesk::cli

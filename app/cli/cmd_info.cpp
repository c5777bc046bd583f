// `info`: what a model file is (format, config, tensor types, size), how much
// memory it needs at a context length, the backends of this build with their
// devices (or why they have none), and which one `--backend auto` would run.
// --json prints the same as one JSON object, for scripts.
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "model/gguf.h"
#include "tokenizer/tokenizer.h"

namespace ossdesk::cli {
namespace {

struct BackendDevices {
  std::string name;
  std::vector<DeviceInfo> devices;
  std::string why_none;  // when there are none
  std::string library;   // the shared library it runs from, if it is one
};

std::vector<BackendDevices> list_backends() {
  std::vector<BackendDevices> out;
  for (const std::string& name : available_backends()) {
    BackendDevices b{name, {}, {}, {}};
    b.devices = list_devices(name, false, &b.why_none);
    if (!b.devices.empty()) b.why_none.clear();
    b.library = backend_library(name);  // after listing, which loads it
    out.push_back(std::move(b));
  }
  return out;
}

void print_text(const Model& model, int context, const std::map<std::string, std::pair<int, std::uint64_t>>& types,
                const MemoryEstimate& f16, const MemoryEstimate& f32, const std::vector<BackendDevices>& backends,
                const BackendChoice& automatic) {
  const ModelConfig& c = model.config();
  std::printf("model:      %s\n", model.path().c_str());
  std::printf("format:     %s\n", model.format_name());
  std::printf("file size:  %s (%llu bytes)\n", human_bytes(model.file_bytes()).c_str(),
              static_cast<unsigned long long>(model.file_bytes()));
  std::printf("config:     %d layers, hidden %d, %d q heads / %d kv heads x %d, %d experts (top-%d) of width %d\n",
              c.num_layers, c.hidden_size, c.num_heads, c.num_kv_heads, c.head_dim, c.num_experts, c.experts_per_token,
              c.intermediate_size);
  std::printf("            vocab %d, sliding window %d, context %d, rope theta %g, yarn factor %g over %d\n", c.vocab_size,
              c.sliding_window, c.max_context, c.rope_theta, c.rope_scaling_factor, c.rope_original_context);
  std::printf("tensors:   ");
  for (const auto& [name, e] : types) std::printf(" %s x%d (%s)", name.c_str(), e.first, human_bytes(e.second).c_str());
  std::printf("\n");
  std::printf("tokenizer:  %s\n", model.tokenizer() ? (std::to_string(model.tokenizer()->vocab_size()) + " tokens").c_str()
                                                     : model.tokenizer_problem().c_str());
  std::printf("memory at context %d: weights %s + KV cache %s (f16; %s as f32 on the CPU) + scratch %s = %s\n", context,
              human_bytes(f16.weights).c_str(), human_bytes(f16.kv_cache).c_str(), human_bytes(f32.kv_cache).c_str(),
              human_bytes(f16.scratch).c_str(), human_bytes(f16.total()).c_str());
  std::printf("weights read per token: %s\n", human_bytes(model.weights().bytes_read_per_token(c)).c_str());
  std::printf("backends:\n");
  for (const BackendDevices& b : backends) {
    if (b.devices.empty()) std::printf("  %-7s none: %s\n", b.name.c_str(), b.why_none.c_str());
    for (const DeviceInfo& d : b.devices) {
      std::string bandwidth;
      if (d.memory_bandwidth_bytes_per_s > 0)
        bandwidth = ", " + std::to_string(static_cast<long long>(std::llround(static_cast<double>(d.memory_bandwidth_bytes_per_s) / 1e9))) +
                    " GB/s peak";
      std::printf("  %-7s [%d] %s (%s, %s%s)\n", b.name.c_str(), d.index, d.name.c_str(), d.type.c_str(), human_bytes(d.memory_bytes).c_str(),
                  bandwidth.c_str());
    }
    if (!b.library.empty()) std::printf("          from %s\n", b.library.c_str());
  }
  std::printf("auto runs: %s (%s)\n", automatic.name.c_str(), automatic.reason.c_str());
}

void print_json(const Model& model, int context, const std::map<std::string, std::pair<int, std::uint64_t>>& types,
                const MemoryEstimate& f16, const MemoryEstimate& f32, const std::vector<BackendDevices>& backends,
                const BackendChoice& automatic) {
  const ModelConfig& c = model.config();
  nlohmann::json tensor_types = nlohmann::json::object();
  for (const auto& [name, e] : types) tensor_types[name] = {{"count", e.first}, {"bytes", e.second}};
  nlohmann::json tokenizer = model.tokenizer() ? nlohmann::json{{"tokens", model.tokenizer()->vocab_size()}}
                                               : nlohmann::json{{"problem", model.tokenizer_problem()}};
  nlohmann::json backend_list = nlohmann::json::array();
  for (const BackendDevices& b : backends) {
    nlohmann::json devices = nlohmann::json::array();
    for (const DeviceInfo& d : b.devices)
      devices.push_back({{"index", d.index},
                         {"name", d.name},
                         {"type", d.type},
                         {"driver", d.driver},
                         {"memory_bytes", d.memory_bytes},
                         {"memory_bandwidth_bytes_per_s", d.memory_bandwidth_bytes_per_s}});
    nlohmann::json entry = {{"name", b.name}, {"devices", devices}};
    if (devices.empty()) entry["why_none"] = b.why_none;
    if (!b.library.empty()) entry["library"] = b.library;
    backend_list.push_back(std::move(entry));
  }
  const nlohmann::json out = {
      {"model", model.path()},
      {"format", model.format_name()},
      {"file_bytes", model.file_bytes()},
      {"config",
       {{"layers", c.num_layers},
        {"hidden", c.hidden_size},
        {"q_heads", c.num_heads},
        {"kv_heads", c.num_kv_heads},
        {"head_dim", c.head_dim},
        {"experts", c.num_experts},
        {"experts_per_token", c.experts_per_token},
        {"expert_width", c.intermediate_size},
        {"vocab", c.vocab_size},
        {"sliding_window", c.sliding_window},
        {"max_context", c.max_context}}},
      {"tensor_types", tensor_types},
      {"tokenizer", tokenizer},
      {"memory",
       {{"context", context},
        {"weights_bytes", f16.weights},
        {"kv_cache_bytes", f16.kv_cache},
        {"kv_cache_f32_bytes", f32.kv_cache},
        {"scratch_bytes", f16.scratch},
        {"total_bytes", f16.total()}}},
      {"weight_bytes_per_token", model.weights().bytes_read_per_token(c)},
      {"backends", backend_list},
      {"auto", {{"backend", automatic.name}, {"reason", automatic.reason}}},
  };
  std::printf("%s\n", out.dump(2).c_str());
}

}  // namespace

int cmd_info(const Argv& argv) {
  Args args("info", argv, {"model", "context"}, {"json"});
  auto model = Model::open(args.get("model"));
  const int context = args.get_int("context", model->config().max_context);
  std::map<std::string, std::pair<int, std::uint64_t>> types;  // dtype -> (count, bytes)
  for (const auto& t : model->tensors()) {
    auto& e = types[dtype_name(t.dtype)];
    e.first += 1;
    e.second += t.nbytes;
  }
  const MemoryEstimate f32 = estimate_memory(model->config(), model->weights(), context, 4);
  const MemoryEstimate f16 = estimate_memory(model->config(), model->weights(), context, 2);
  const std::vector<BackendDevices> backends = list_backends();
  // Chosen from the devices just listed: listing again would open every driver twice.
  const BackendChoice automatic = choose_auto_backend([&backends](const std::string& name, std::string* why_none) {
    for (const BackendDevices& b : backends)
      if (b.name == name) {
        *why_none = b.why_none;
        return b.devices;
      }
    return std::vector<DeviceInfo>{};
  });
  if (args.flag("json")) print_json(*model, context, types, f16, f32, backends, automatic);
  else print_text(*model, context, types, f16, f32, backends, automatic);
  return 0;
}

}  // namespace ossdesk::cli

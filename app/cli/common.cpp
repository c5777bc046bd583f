#include <algorithm>
#include "common.h"

#include <cstdio>

#include "runtime/engine_impl.h"

namespace ossdesk::cli {

const std::set<std::string> kBackendOptions = {"backend", "device", "threads", "context", "batch"};

std::set<std::string> with_backend_options(std::set<std::string> more) {
  more.insert(kBackendOptions.begin(), kBackendOptions.end());
  return more;
}

EngineOptions engine_options(const Args& args) {
  EngineOptions o;
  o.backend = args.get_or("backend", "auto");
  o.context_length = args.get_int("context", 8192);
  o.threads = args.get_int("threads", 0);
  o.max_batch = args.get_int("batch", 512);
  const std::string device = args.get_or("device", "");
  if (!device.empty()) {
    if (device.find_first_not_of("0123456789") == std::string::npos) o.device_index = std::stoi(device);
    else o.device_name = device;
    o.allow_software_devices = true;  // naming a device is asking for it, lavapipe included
  }
  return o;
}

LoadedModel load_model(const Args& args, int min_context, const std::string& default_backend, bool profile) {
  LoadedModel lm;
  lm.model = Model::open(args.get("model"));
  BackendOptions opt = to_backend_options(engine_options(args));
  opt.context_length = std::max(args.get_int("context", std::max(4096, min_context)), min_context);
  opt.context_length = std::min(opt.context_length, std::max(min_context, lm.model->config().max_context));
  opt.profile = profile;
  lm.backend = create_backend(args.get_or("backend", default_backend), *lm.model, opt, LoadControl{}, &lm.choice);
  return lm;
}

nlohmann::json weights_json(const WeightsStatus& status) {
  nlohmann::json j = {{"place", to_string(status.place)}};
  if (status.place != WeightsPlace::Device) {
    j["bytes"] = status.bytes;
    j["bytes_read"] = status.bytes_read;
    j["note"] = status.note;
  }
  return j;
}

std::string human_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

void print_profile(Backend& backend) {
  print_profile(backend.take_profile(), backend.device().backend, backend.device().name);
}

void print_profile(std::vector<OpTiming> ops, const std::string& backend, const std::string& device) {
  std::sort(ops.begin(), ops.end(), [](const OpTiming& a, const OpTiming& b) { return a.total_ms > b.total_ms; });
  double total = 0;
  for (const OpTiming& op : ops) total += op.total_ms;
  std::fprintf(stderr, "profile (%s on %s):\n", backend.c_str(), device.c_str());
  for (const OpTiming& op : ops)
    std::fprintf(stderr, "  %-28s %10.3f ms  %5.1f%%  %llu calls\n", op.op.c_str(), op.total_ms,
                 total > 0 ? 100.0 * op.total_ms / total : 0.0, static_cast<unsigned long long>(op.calls));
}

}  // namespace ossdesk::cli

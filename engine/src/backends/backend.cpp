#include "backends/backend.h"

#include <thread>

#include "backends/cpu/cpu_backend.h"
#include "ossdesk/error.h"

namespace ossdesk {

TokenId Backend::forward_and_sample(std::span<const TokenId> tokens, const SamplingParams& params, SamplerState& state) {
  host_logits_.resize(static_cast<std::size_t>(vocab_size()));
  forward(tokens, LogitsMode::Last, host_logits_.data());
  return sample_token(host_logits_, params, state, host_candidates_);
}

std::vector<std::string> available_backends() { return {"cpu"}; }

std::vector<DeviceInfo> list_devices(const std::string& backend, bool, std::string* why_none) {
  if (backend == "cpu") return {cpu::describe_host_cpu(std::max(1u, std::thread::hardware_concurrency()))};
  if (why_none) *why_none = "backend '" + backend + "' is not part of this build";
  return {};
}

std::unique_ptr<Backend> create_backend(const std::string& name, const Model& model, const BackendOptions& options,
                                        const LoadControl& control, BackendChoice* choice) {
  std::string chosen = name;
  std::string reason = "requested";
  if (name == "auto") {
    // GPU backends register ahead of the CPU here as they are built.
    chosen = "cpu";
    reason = "no GPU backend in this build";
  }
  if (chosen == "cpu") {
    if (choice) *choice = {chosen, reason};
    return std::make_unique<cpu::CpuBackend>(model, options, control);
  }
  fail(ErrorKind::Unsupported, "backend '" + name + "' is not available in this build (available: cpu)");
}

}  // namespace ossdesk

#include "backends/backend.h"

#include <algorithm>
#include <thread>

#include "backends/cpu/cpu_backend.h"
#include "ossdesk/error.h"
#ifdef OSSDESK_HAVE_VULKAN
#include "backends/vulkan/vk_backend.h"
#include "backends/vulkan/vk_device.h"
#endif

namespace ossdesk {

TokenId Backend::forward_and_sample(std::span<const TokenId> tokens, const SamplingParams& params, SamplerState& state) {
  host_logits_.resize(static_cast<std::size_t>(vocab_size()));
  forward(tokens, LogitsMode::Last, host_logits_.data());
  return sample_token(host_logits_, params, state, host_candidates_);
}

void check_forward_input(const Backend& b, std::span<const TokenId> tokens) {
  if (static_cast<std::size_t>(b.position()) + tokens.size() > static_cast<std::size_t>(b.context_length()))
    fail_input("context full: " + std::to_string(b.position()) + " + " + std::to_string(tokens.size()) +
               " tokens exceed the context length of " + std::to_string(b.context_length()));
  for (TokenId t : tokens)
    if (t < 0 || t >= b.vocab_size())
      fail_input("token id " + std::to_string(t) + " is outside the vocabulary (0.." + std::to_string(b.vocab_size() - 1) + ")");
}

void forward_in_chunks(std::span<const TokenId> tokens, LogitsMode mode, float* logits, std::size_t chunk,
                       std::size_t vocab, const std::function<void(std::span<const TokenId>, LogitsMode, float*)>& run) {
  for (std::size_t begin = 0; begin < tokens.size(); begin += chunk) {
    const std::size_t n = std::min(chunk, tokens.size() - begin);
    const bool last = begin + n == tokens.size();
    const LogitsMode m = mode == LogitsMode::All ? LogitsMode::All : (last ? mode : LogitsMode::None);
    run(tokens.subspan(begin, n), m, mode == LogitsMode::All ? logits + begin * vocab : logits);
  }
}

void add_timing(std::vector<OpTiming>& sink, const std::string& op, double ms, std::uint64_t calls) {
  auto it = std::find_if(sink.begin(), sink.end(), [&](const OpTiming& t) { return t.op == op; });
  if (it == sink.end()) it = sink.insert(sink.end(), OpTiming{op, 0.0, 0});
  it->total_ms += ms;
  it->calls += calls;
}

std::vector<std::string> available_backends() {
#ifdef OSSDESK_HAVE_VULKAN
  return {"vulkan", "cpu"};
#else
  return {"cpu"};
#endif
}

std::vector<DeviceInfo> list_devices(const std::string& backend, bool include_software, std::string* why_none) {
  if (backend == "cpu") return {cpu::describe_host_cpu(std::max(1u, std::thread::hardware_concurrency()))};
#ifdef OSSDESK_HAVE_VULKAN
  if (backend == "vulkan") return vk::list_devices(include_software, why_none);
#else
  (void)include_software;
#endif
  if (why_none) *why_none = "backend '" + backend + "' is not part of this build";
  return {};
}

std::unique_ptr<Backend> create_backend(const std::string& name, const Model& model, const BackendOptions& options,
                                        const LoadControl& control, BackendChoice* choice) {
  std::string chosen = name;
  std::string reason = "requested";
  if (name == "auto") {
    chosen = "cpu";
#ifdef OSSDESK_HAVE_VULKAN
    // A GPU when there is one; software Vulkan devices only when asked for.
    std::string why;
    if (!vk::list_devices(options.allow_software_devices, &why).empty()) {
      chosen = "vulkan";
      reason = "the first Vulkan GPU";
    } else {
      reason = "no Vulkan GPU: " + why;
    }
#else
    reason = "no GPU backend in this build";
#endif
  }
  if (chosen == "cpu") {
    if (choice) *choice = {chosen, reason};
    return std::make_unique<cpu::CpuBackend>(model, options, control);
  }
#ifdef OSSDESK_HAVE_VULKAN
  if (chosen == "vulkan") {
    if (choice) *choice = {chosen, reason};
    return std::make_unique<vk::VulkanBackend>(model, options, control);
  }
#endif
  std::string names;
  for (const std::string& b : available_backends()) names += (names.empty() ? "" : ", ") + b;
  fail(ErrorKind::Unsupported, "backend '" + name + "' is not available in this build (available: " + names + ")");
}

}  // namespace ossdesk

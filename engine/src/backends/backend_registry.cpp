// Which backends this build has, their devices, and creating one by name
// ("auto" picks the first of cuda, vulkan, cpu with a usable device and says why).
#include <algorithm>
#include <thread>

#include "backends/backend.h"
#include "backends/cpu/cpu_backend.h"
#include "ossdesk/error.h"
#ifdef OSSDESK_HAVE_VULKAN
#include "backends/vulkan/vk_backend.h"
#include "backends/vulkan/vk_device.h"
#endif

namespace ossdesk {

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

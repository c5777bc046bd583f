// Which backends this build has, their devices, and creating one by name
// ("auto" picks the first of cuda, vulkan, cpu with a usable device and says why).
#include <algorithm>
#include <thread>

#include "backends/backend.h"
#include "backends/cpu/cpu_backend.h"
#include "ossdesk/error.h"
#ifdef OSSDESK_HAVE_CUDA
#include "backends/cuda/cuda_loader.h"
#endif
#ifdef OSSDESK_HAVE_VULKAN
#include "backends/vulkan/vk_backend.h"
#include "backends/vulkan/vk_device.h"
#endif

namespace ossdesk {

std::vector<std::string> available_backends() {
  std::vector<std::string> names;
#ifdef OSSDESK_HAVE_CUDA
  names.push_back("cuda");
#endif
#ifdef OSSDESK_HAVE_VULKAN
  names.push_back("vulkan");
#endif
  names.push_back("cpu");
  return names;
}

std::vector<DeviceInfo> list_devices(const std::string& backend, bool include_software, std::string* why_none) {
  if (backend == "cpu") return {cpu::describe_host_cpu(std::max(1u, std::thread::hardware_concurrency()))};
#ifdef OSSDESK_HAVE_CUDA
  if (backend == "cuda") return cuda::list_devices(why_none);
#endif
#ifdef OSSDESK_HAVE_VULKAN
  if (backend == "vulkan") return vk::list_devices(include_software, why_none);
#else
  (void)include_software;
#endif
  if (why_none) *why_none = "backend '" + backend + "' is not part of this build";
  return {};
}

std::string backend_library(const std::string& backend) {
#ifdef OSSDESK_HAVE_CUDA
  if (backend == "cuda") return cuda::library_path();
#else
  (void)backend;
#endif
  return {};
}

BackendChoice choose_backend(const std::string& name, bool include_software) {
  if (name != "auto") return {name, "requested"};
  // CUDA on NVIDIA, else a Vulkan GPU (software devices only when asked
  // for), else the CPU; the reason says what was missing on the way.
  std::string chosen = "cpu";
  std::string reason;
  std::string why_not;
#ifdef OSSDESK_HAVE_CUDA
  std::string why_cuda;
  if (!cuda::list_devices(&why_cuda).empty()) chosen = "cuda", reason = "an NVIDIA GPU";
  else why_not += "no CUDA GPU: " + why_cuda + "; ";
#endif
#ifdef OSSDESK_HAVE_VULKAN
  std::string why_vulkan;
  if (chosen == "cpu") {
    if (!vk::list_devices(include_software, &why_vulkan).empty()) chosen = "vulkan", reason = "the first Vulkan GPU";
    else why_not += "no Vulkan GPU: " + why_vulkan;
  }
#else
  (void)include_software;
#endif
  if (why_not.ends_with("; ")) why_not.resize(why_not.size() - 2);
  if (chosen == "cpu") reason = why_not.empty() ? "no GPU backend in this build" : why_not;
  else if (!why_not.empty()) reason += " (" + why_not + ")";
  return {chosen, reason};
}

std::unique_ptr<Backend> create_backend(const std::string& name, const Model& model, const BackendOptions& options,
                                        const LoadControl& control, BackendChoice* choice) {
  const BackendChoice picked = choose_backend(name, options.allow_software_devices);
  const std::string& chosen = picked.name;
  if (chosen == "cpu") {
    if (choice) *choice = picked;
    return std::make_unique<cpu::CpuBackend>(model, options, control);
  }
#ifdef OSSDESK_HAVE_CUDA
  if (chosen == "cuda") {
    if (choice) *choice = picked;
    return cuda::create_backend(model, options, control);
  }
#endif
#ifdef OSSDESK_HAVE_VULKAN
  if (chosen == "vulkan") {
    if (choice) *choice = picked;
    return std::make_unique<vk::VulkanBackend>(model, options, control);
  }
#endif
  std::string names;
  for (const std::string& b : available_backends()) names += (names.empty() ? "" : ", ") + b;
  fail(ErrorKind::Unsupported, "backend '" + name + "' is not available in this build (available: " + names + ")");
}

}  // namespace ossdesk

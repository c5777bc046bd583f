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
  return choose_auto_backend(
      [include_software](const std::string& backend, std::string* why_none) { return list_devices(backend, include_software, why_none); });
}

BackendChoice choose_auto_backend(const DeviceLister& devices_of) {
  // CUDA on NVIDIA, else a Vulkan GPU, else the CPU; the reason says what was
  // missing on the way. A GPU backend is asked for its devices only when the
  // ones before it have none.
  struct Gpu {
    const char* backend;
    const char* chosen_because;
    const char* missing;
  };
  static constexpr Gpu kGpus[] = {{"cuda", "an NVIDIA GPU", "no CUDA GPU"}, {"vulkan", "the first Vulkan GPU", "no Vulkan GPU"}};
  const std::vector<std::string> built = available_backends();
  std::string why_not;
  for (const Gpu& gpu : kGpus) {
    if (std::find(built.begin(), built.end(), gpu.backend) == built.end()) continue;
    std::string why;
    if (!devices_of(gpu.backend, &why).empty())
      return {gpu.backend, why_not.empty() ? std::string(gpu.chosen_because) : std::string(gpu.chosen_because) + " (" + why_not + ")"};
    why_not += (why_not.empty() ? "" : "; ") + std::string(gpu.missing) + ": " + why;
  }
  return {"cpu", why_not.empty() ? "no GPU backend in this build" : why_not};
}

std::unique_ptr<Backend> create_backend(const std::string& name, const Model& model, const BackendOptions& options,
                                        const LoadControl& control, BackendChoice* choice) {
  const BackendChoice picked = choose_backend(name, options.allow_software_devices);
  if (choice) *choice = picked;
  if (picked.name == "cpu") return std::make_unique<cpu::CpuBackend>(model, options, control);
#ifdef OSSDESK_HAVE_CUDA
  if (picked.name == "cuda") return cuda::create_backend(model, options, control);
#endif
#ifdef OSSDESK_HAVE_VULKAN
  if (picked.name == "vulkan") return std::make_unique<vk::VulkanBackend>(model, options, control);
#endif
  std::string names;
  for (const std::string& b : available_backends()) names += (names.empty() ? "" : ", ") + b;
  fail(ErrorKind::Unsupported, "backend '" + name + "' is not available in this build (available: " + names + ")");
}

}  // namespace ossdesk

// Which backends this build has, their devices, and creating one by name
// ("auto" takes the first of cuda, vulkan, cpu that has a usable device and
// loads the model, and says why).

#include "backends/backend.h"
#include "backends/cpu/cpu_backend.h"
#include "ossdesk/error.h"
#include "util/cpu_budget.h"
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
  if (backend == "cpu") return {cpu::describe_host_cpu(cpu_budget().cores)};
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

BackendChoice choose_auto_backend(const DeviceLister& devices_of, const AutoAttempt& attempt) {
  // CUDA on NVIDIA, else a Vulkan GPU, else the CPU; the reason says what was
  // missing or failed on the way. A GPU backend is asked for its devices only
  // when the ones before it have none or could not load the model.
  struct Gpu {
    const char* backend;
    const char* chosen_because;
    const char* missing;
  };
  static constexpr Gpu kGpus[] = {{"cuda", "an NVIDIA GPU", "no CUDA GPU"}, {"vulkan", "the first Vulkan GPU", "no Vulkan GPU"}};
  const std::vector<std::string> built = available_backends();
  std::string why_not, failed_gpus;
  const auto note = [](std::string& list, const std::string& what) { list += (list.empty() ? "" : "; ") + what; };
  for (const Gpu& gpu : kGpus) {
    if (std::find(built.begin(), built.end(), gpu.backend) == built.end()) continue;
    std::string why;
    if (devices_of(gpu.backend, &why).empty()) {
      note(why_not, std::string(gpu.missing) + ": " + why);
      continue;
    }
    const BackendChoice candidate{gpu.backend,
                                  why_not.empty() ? std::string(gpu.chosen_because)
                                                  : std::string(gpu.chosen_because) + " (" + why_not + ")",
                                  failed_gpus};
    std::string failed;
    if (!attempt || attempt(candidate, &failed)) return candidate;
    note(why_not, failed);
    note(failed_gpus, failed);
  }
  const BackendChoice cpu{"cpu", why_not.empty() ? "no GPU backend in this build" : why_not, failed_gpus};
  if (attempt) {
    std::string unused;
    attempt(cpu, &unused);
  }
  return cpu;
}

namespace {

std::unique_ptr<Backend> create_named(const std::string& name, const Model& model, const BackendOptions& options,
                                      const LoadControl& control) {
  if (name == "cpu") return std::make_unique<cpu::CpuBackend>(model, options, control);
#ifdef OSSDESK_HAVE_CUDA
  if (name == "cuda") return cuda::create_backend(model, options, control);
#endif
#ifdef OSSDESK_HAVE_VULKAN
  if (name == "vulkan") return std::make_unique<vk::VulkanBackend>(model, options, control);
#endif
  std::string names;
  for (const std::string& b : available_backends()) names += (names.empty() ? "" : ", ") + b;
  fail(ErrorKind::Unsupported, "backend '" + name + "' is not available in this build (available: " + names + ")");
}

// A GPU backend that could not take the model (too little memory, a model or
// device it does not support, a driver failure) hands "auto" on to the next;
// a bad file, an unreadable one or a cancelled load ends it, as the next
// backend would meet the same.
bool next_backend_may_succeed(ErrorKind kind) {
  return kind == ErrorKind::OutOfMemory || kind == ErrorKind::Unsupported || kind == ErrorKind::Internal;
}

}  // namespace

std::unique_ptr<Backend> create_backend(const std::string& name, const Model& model, const BackendOptions& options,
                                        const LoadControl& control, BackendChoice* choice) {
  if (name != "auto") {
    if (choice) *choice = {name, "requested", ""};
    return create_named(name, model, options, control);
  }
  std::unique_ptr<Backend> made;
  const bool software = options.allow_software_devices;
  const BackendChoice picked = choose_auto_backend(
      [software](const std::string& backend, std::string* why_none) { return list_devices(backend, software, why_none); },
      [&](const BackendChoice& candidate, std::string* why_not) {
        try {
          made = create_named(candidate.name, model, options, control);
          return true;
        } catch (const Error& e) {
          if (candidate.name == "cpu" || !next_backend_may_succeed(e.kind())) throw;
          *why_not = candidate.name + " could not load the model: " + e.what();
          return false;
        }
      });
  if (choice) *choice = picked;
  return made;
}

}  // namespace ossdesk

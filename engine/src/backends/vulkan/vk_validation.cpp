#include "backends/vulkan/vk_validation.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "backends/vulkan/vk_check.h"
#include "ossdesk/error.h"

namespace ossdesk::vk {
namespace {

// The mode OSSDESK_VULKAN_VALIDATION names: "" (unset, empty or 0: off), "1" or "gpu".
std::string requested_mode() {
  const char* v = std::getenv("OSSDESK_VULKAN_VALIDATION");
  const std::string mode = v ? v : "";
  if (mode.empty() || mode == "0") return "";
  if (mode != "1" && mode != "gpu")
    fail(ErrorKind::Unsupported, "vulkan: OSSDESK_VULKAN_VALIDATION is '" + mode +
                                     "'; expected 0 (off), 1 (synchronization validation) or gpu (GPU-assisted validation)");
  return mode;
}

bool layer_installed(const char* name) {
  std::uint32_t n = 0;
  if (vkEnumerateInstanceLayerProperties(&n, nullptr) != VK_SUCCESS) return false;
  std::vector<VkLayerProperties> layers(n);
  if (vkEnumerateInstanceLayerProperties(&n, layers.data()) != VK_SUCCESS) return false;
  for (const VkLayerProperties& l : layers)
    if (std::strcmp(l.layerName, name) == 0) return true;
  return false;
}

// One line per message (the layer's own text spans several), so a test can
// match it and a reader can grep it.
VKAPI_ATTR VkBool32 VKAPI_CALL report(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                      VkDebugUtilsMessageTypeFlagsEXT, const VkDebugUtilsMessengerCallbackDataEXT* data,
                                      void*) {
  const char* level = severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT ? "error" : "warning";
  std::string text = data && data->pMessage ? data->pMessage : "(no text)";
  for (char& c : text)
    if (c == '\n') c = ' ';
  std::fprintf(stderr, "vulkan validation: %s: %s\n", level, text.c_str());
  std::fflush(stderr);
  return VK_FALSE;  // the call goes on, as it would without the layer
}

}  // namespace

Validation::Validation() {
  const std::string mode = requested_mode();
  enabled_ = !mode.empty();
  if (!enabled_) return;
  if (!layer_installed(layer_))
    fail(ErrorKind::Unsupported, "vulkan: OSSDESK_VULKAN_VALIDATION=" + mode + " asks for " + layer_ +
                                     ", which is not installed (Debian/Ubuntu package vulkan-validationlayers)");
  features_.sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT;
  if (mode == "gpu") {
    // The instrumentation takes a descriptor set slot; our pipelines use set 0 only.
    enables_[0] = VK_VALIDATION_FEATURE_ENABLE_GPU_ASSISTED_EXT;
    enables_[1] = VK_VALIDATION_FEATURE_ENABLE_GPU_ASSISTED_RESERVE_BINDING_SLOT_EXT;
    features_.enabledValidationFeatureCount = 2;
  } else {
    enables_[0] = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
    features_.enabledValidationFeatureCount = 1;
  }
  features_.pEnabledValidationFeatures = enables_;
  messenger_info_.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT;
  messenger_info_.pNext = &features_;
  messenger_info_.messageSeverity =
      VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  messenger_info_.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                                VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                                VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  messenger_info_.pfnUserCallback = report;
}

void Validation::extend(VkInstanceCreateInfo& ci) {
  if (!enabled_) return;
  if (ci.pNext || ci.enabledLayerCount || ci.enabledExtensionCount)
    fail(ErrorKind::Internal, "vulkan: the validation layer extends an instance that already has layers or extensions");
  ci.pNext = &messenger_info_;
  ci.enabledLayerCount = 1;
  ci.ppEnabledLayerNames = &layer_;
  ci.enabledExtensionCount = 1;
  ci.ppEnabledExtensionNames = &extension_;
}

void Validation::attach(VkInstance instance) {
  if (!enabled_) return;
  auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
      vkGetInstanceProcAddr(instance, "vkCreateDebugUtilsMessengerEXT"));
  if (!create) fail(ErrorKind::Unsupported, "vulkan: the validation layer offers no vkCreateDebugUtilsMessengerEXT");
  VkDebugUtilsMessengerCreateInfoEXT info = messenger_info_;
  info.pNext = nullptr;
  check(create(instance, &info, nullptr, &messenger_), "vkCreateDebugUtilsMessengerEXT");
}

void Validation::detach(VkInstance instance) {
  if (!messenger_) return;
  auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
      vkGetInstanceProcAddr(instance, "vkDestroyDebugUtilsMessengerEXT"));
  if (destroy) destroy(instance, messenger_, nullptr);
  messenger_ = VK_NULL_HANDLE;
}

}  // namespace ossdesk::vk

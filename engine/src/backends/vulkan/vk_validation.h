// The Khronos validation layer as a development aid. OSSDESK_VULKAN_VALIDATION
// loads it into every instance this process creates and prints each warning
// or error it reports to stderr as one line that starts with "vulkan
// validation:". Besides the API checks, the layer adds
//   1    synchronization validation: a dispatch that reads or writes what an
//        earlier one wrote with no barrier between them;
//   gpu  GPU-assisted validation: the shaders instrumented, so an access past
//        the range a descriptor binds is reported (about 50 times slower on
//        lavapipe; for a one-off audit, not CI).
// Lavapipe runs dispatches one after another and forgives what a GPU would not
// (a missing barrier, a feature used but not enabled); the *_validated CTest
// entries run the Vulkan tests with "1" and fail on any such line, so CI
// catches those without a GPU.
//
// Unset, empty or 0 (the default), nothing here touches the instance.
#pragma once

#include <vulkan/vulkan.h>

namespace ossdesk::vk {

class Validation {
 public:
  // Reads OSSDESK_VULKAN_VALIDATION. When it asks for validation and the layer
  // is not installed, or names no mode above, throws Error(Unsupported).
  Validation();
  Validation(const Validation&) = delete;
  Validation& operator=(const Validation&) = delete;

  bool enabled() const { return enabled_; }
  // Adds the layer, VK_EXT_debug_utils, the mode's validation features and the
  // message callback (so vkCreateInstance's own messages are caught) to ci,
  // which must have no pNext, layers or extensions of its own. ci then points
  // into this object.
  void extend(VkInstanceCreateInfo& ci);
  // After vkCreateInstance: the callback for everything after creation.
  void attach(VkInstance instance);
  // Before vkDestroyInstance.
  void detach(VkInstance instance);

 private:
  bool enabled_ = false;
  const char* layer_ = "VK_LAYER_KHRONOS_validation";
  const char* extension_ = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
  VkValidationFeatureEnableEXT enables_[2] = {};
  VkValidationFeaturesEXT features_{};
  VkDebugUtilsMessengerCreateInfoEXT messenger_info_{};
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
};

}  // namespace ossdesk::vk

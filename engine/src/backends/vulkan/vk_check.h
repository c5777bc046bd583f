// Vulkan result codes turned into ossdesk::Error with the call that failed.
#pragma once

#include <vulkan/vulkan.h>

#include <string>

namespace ossdesk::vk {

const char* result_name(VkResult r);
// Throws Error (OutOfMemory for the out-of-memory codes, Unsupported for
// missing drivers/features, Internal otherwise) when `r` is not VK_SUCCESS.
void check(VkResult r, const char* what);

}  // namespace ossdesk::vk

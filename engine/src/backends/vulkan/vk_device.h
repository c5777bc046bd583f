// Vulkan instance, physical-device enumeration and the logical device with
// its compute queue.
//
// Only devices with Vulkan 1.1 and a compute queue are usable. CPU-type
// devices (Mesa lavapipe, SwiftShader) are listed only when software devices
// are allowed: they are correct but slower than the CPU backend, so they are
// for tests, never a default.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/vulkan/vk_validation.h"

namespace ossdesk::vk {

struct PhysicalDevice {
  VkPhysicalDevice handle = VK_NULL_HANDLE;
  DeviceInfo info;                 // backend "vulkan"; index = position in the filtered list
  std::uint32_t vendor_id = 0;
  std::uint32_t device_id = 0;
  std::uint32_t api_version = 0;
  bool software = false;           // VK_PHYSICAL_DEVICE_TYPE_CPU
  std::uint32_t compute_queue_family = 0;
  std::uint32_t subgroup_size = 0;
  bool subgroup_arithmetic = false;  // basic + arithmetic subgroup ops in compute shaders
  std::uint64_t max_storage_buffer_range = 0;
  std::uint64_t max_memory_allocation_size = 0;
  std::uint32_t max_workgroup_invocations = 0;
  std::uint32_t max_workgroup_size_x = 0;
  std::uint32_t max_workgroup_count[3] = {0, 0, 0};
  std::uint32_t max_push_constants_size = 0;
  std::uint32_t max_storage_buffers_per_stage = 0;  // bindings one compute shader may declare
  std::uint64_t min_storage_buffer_offset_alignment = 0;
  std::uint64_t device_local_bytes = 0;  // sum of DEVICE_LOCAL heaps
  float timestamp_period_ns = 0;         // nanoseconds per timestamp tick
  bool timestamps = false;               // the compute queue writes timestamps
  // VK_KHR_shader_integer_dot_product (core in 1.3) with its feature: packed
  // 4 x int8 dot products (OpSDot). Used only when OSSDESK_VULKAN_INTEGER_DOT=1:
  // quantizing activations to 8 bits moves logits by ~0.5% (engine/README.md).
  bool integer_dot = false;
  bool integer_dot_extension = false;  // enabled by name (before Vulkan 1.3)
};

class Instance {
 public:
  // Throws Error(Unsupported) when no Vulkan 1.1 loader/driver is present.
  Instance();
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  VkInstance handle() const { return instance_; }
  // Usable devices, discrete GPUs first, then integrated, virtual, software.
  std::vector<PhysicalDevice> devices(bool include_software) const;

 private:
  Validation validation_;  // OSSDESK_VULKAN_VALIDATION=1 only
  VkInstance instance_ = VK_NULL_HANDLE;
};

// The devices list_devices("vulkan") reports; empty with a reason when none.
std::vector<DeviceInfo> list_devices(bool include_software, std::string* why_none);

// Picks a device as BackendOptions asks (index, name substring, or the first =
// best one). Throws Error(Unsupported) naming what was asked and what exists.
PhysicalDevice select_device(const Instance& instance, const BackendOptions& options);

class Device {
 public:
  Device(std::shared_ptr<const Instance> instance, const PhysicalDevice& physical);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  VkDevice handle() const { return device_; }
  VkQueue queue() const { return queue_; }
  const PhysicalDevice& physical() const { return physical_; }
  // A memory type with all `required` flags (preferring `preferred` too) among
  // `type_bits`; throws Error(Unsupported) when none fits.
  std::uint32_t memory_type(std::uint32_t type_bits, VkMemoryPropertyFlags required,
                            VkMemoryPropertyFlags preferred) const;
  // Workgroup size for reductions: a power of two, at most `want`, within the device's limits.
  std::uint32_t workgroup_size(std::uint32_t want) const;

 private:
  std::shared_ptr<const Instance> instance_;
  PhysicalDevice physical_;
  VkPhysicalDeviceMemoryProperties memory_{};
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
};

}  // namespace ossdesk::vk

// Buffers and their memory. Every storage buffer stays under the device's
// maxStorageBufferRange and maxMemoryAllocationSize (lavapipe: 128 MiB and
// 2 GiB); larger tensors are split by the caller, and a request over a limit
// is a clear Error, not a driver failure.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>

#include "backends/vulkan/vk_device.h"

namespace ossdesk::vk {

enum class MemoryKind {
  DeviceLocal,  // storage buffer the shaders use; filled through staging copies
  Staging,      // host-visible, mapped, coherent: transfer source/destination
};

class Buffer {
 public:
  Buffer() = default;
  // `bytes` is rounded up to a multiple of 4 so word-addressed shaders can read
  // a byte-packed tail. Throws Error(OutOfMemory) over the device's per-buffer limits.
  Buffer(const Device& device, std::uint64_t bytes, MemoryKind kind);
  ~Buffer();
  Buffer(Buffer&& other) noexcept;
  Buffer& operator=(Buffer&& other) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  VkBuffer handle() const { return buffer_; }
  std::uint64_t size() const { return size_; }  // rounded up to 4
  MemoryKind kind() const { return kind_; }
  void* mapped() const { return mapped_; }  // Staging only

 private:
  void release();
  VkDevice device_ = VK_NULL_HANDLE;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  std::uint64_t size_ = 0;
  MemoryKind kind_ = MemoryKind::DeviceLocal;
  void* mapped_ = nullptr;
};

// All of `b`, as a descriptor binds it.
inline VkDescriptorBufferInfo whole(const Buffer& b) { return {b.handle(), 0, VK_WHOLE_SIZE}; }

// The largest storage buffer this device can bind (min of maxStorageBufferRange
// and maxMemoryAllocationSize), rounded down to 256 bytes.
std::uint64_t max_storage_buffer_bytes(const Device& device);

}  // namespace ossdesk::vk

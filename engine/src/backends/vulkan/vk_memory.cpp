#include "backends/vulkan/vk_memory.h"

#include <algorithm>
#include <string>
#include <utility>

#include "backends/vulkan/vk_check.h"
#include "ossdesk/error.h"

namespace ossdesk::vk {

std::uint64_t max_storage_buffer_bytes(const Device& device) {
  const PhysicalDevice& p = device.physical();
  std::uint64_t limit = p.max_storage_buffer_range;
  if (p.max_memory_allocation_size) limit = std::min(limit, p.max_memory_allocation_size);
  return limit & ~std::uint64_t{255};
}

Buffer::Buffer(const Device& device, std::uint64_t bytes, MemoryKind kind)
    : device_(device.handle()), kind_(kind) {
  if (bytes == 0) fail(ErrorKind::Internal, "vulkan: zero-sized buffer requested");
  // Shaders read byte-packed data (17-byte MXFP4 blocks) as 32-bit words: round
  // up so the last partial word is inside the buffer.
  bytes = (bytes + 3) & ~std::uint64_t{3};
  size_ = bytes;
  if (kind == MemoryKind::DeviceLocal && bytes > max_storage_buffer_bytes(device))
    fail(ErrorKind::OutOfMemory, "vulkan: a storage buffer of " + std::to_string(bytes) + " bytes exceeds " +
                                     device.physical().info.name + "'s limit of " +
                                     std::to_string(max_storage_buffer_bytes(device)) +
                                     " bytes (maxStorageBufferRange / maxMemoryAllocationSize); split it");
  VkBufferCreateInfo ci{};
  ci.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
  ci.size = bytes;
  ci.usage = kind == MemoryKind::DeviceLocal
                 ? VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT
                 : VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  ci.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  check(vkCreateBuffer(device_, &ci, nullptr, &buffer_), "vkCreateBuffer");
  try {
    VkMemoryRequirements req{};
    vkGetBufferMemoryRequirements(device_, buffer_, &req);
    const std::uint32_t type =
        kind == MemoryKind::DeviceLocal
            ? device.memory_type(req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0)
            : device.memory_type(req.memoryTypeBits,
                                 VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                 VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
    VkMemoryAllocateInfo ai{};
    ai.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
    ai.allocationSize = req.size;
    ai.memoryTypeIndex = type;
    check(vkAllocateMemory(device_, &ai, nullptr, &memory_), "vkAllocateMemory");
    check(vkBindBufferMemory(device_, buffer_, memory_, 0), "vkBindBufferMemory");
    if (kind == MemoryKind::Staging) check(vkMapMemory(device_, memory_, 0, VK_WHOLE_SIZE, 0, &mapped_), "vkMapMemory");
  } catch (...) {
    release();
    throw;
  }
}

Buffer::~Buffer() { release(); }

Buffer::Buffer(Buffer&& other) noexcept { *this = std::move(other); }

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    release();
    device_ = std::exchange(other.device_, VK_NULL_HANDLE);
    buffer_ = std::exchange(other.buffer_, VK_NULL_HANDLE);
    memory_ = std::exchange(other.memory_, VK_NULL_HANDLE);
    size_ = std::exchange(other.size_, 0);
    kind_ = other.kind_;
    mapped_ = std::exchange(other.mapped_, nullptr);
  }
  return *this;
}

void Buffer::release() {
  if (!device_) return;
  if (mapped_) vkUnmapMemory(device_, memory_);
  if (buffer_) vkDestroyBuffer(device_, buffer_, nullptr);
  if (memory_) vkFreeMemory(device_, memory_, nullptr);
  mapped_ = nullptr;
  buffer_ = VK_NULL_HANDLE;
  memory_ = VK_NULL_HANDLE;
  device_ = VK_NULL_HANDLE;
}

}  // namespace ossdesk::vk

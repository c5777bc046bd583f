// A synchronous op runner: each call records one command buffer, submits it
// and waits on a fence. It is the simplest correct way to drive a shader and
// what the per-op tests use; the forward pass records its command buffers
// once and replays them instead.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>

#include "backends/vulkan/vk_device.h"
#include "backends/vulkan/vk_memory.h"
#include "backends/vulkan/vk_pipeline.h"

namespace ossdesk::vk {

struct GroupCount {
  std::uint32_t x = 1, y = 1, z = 1;
};

// `groups` workgroups laid out as x (up to the device's limit) times y, for
// shaders that index a flat range as gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x
// and skip the tail past `groups`.
GroupCount flat_groups(const Device& device, std::uint64_t groups, std::uint32_t z = 1);

// Workgroups of `per_group` items each that cover `items`.
inline std::uint32_t div_up(std::uint64_t items, std::uint64_t per_group) {
  return static_cast<std::uint32_t>((items + per_group - 1) / per_group);
}

class OpRunner {
 public:
  explicit OpRunner(const Device& device);
  ~OpRunner();
  OpRunner(const OpRunner&) = delete;
  OpRunner& operator=(const OpRunner&) = delete;

  // Host <-> device copies through a reusable host-visible staging buffer.
  void upload(const Buffer& dst, const void* src, std::uint64_t bytes, std::uint64_t dst_offset = 0);
  void download(const Buffer& src, void* dst, std::uint64_t bytes, std::uint64_t src_offset = 0);
  // Device-to-device copy of the first `bytes` of `src` into `dst`.
  void copy(const Buffer& src, const Buffer& dst, std::uint64_t bytes);

  // Binds `buffers` at bindings 0.., pushes `push` and dispatches `groups`; returns when done.
  void dispatch(const ComputePipeline& pipeline, std::initializer_list<const Buffer*> buffers, const void* push,
                std::uint32_t push_bytes, GroupCount groups);
  // The same with buffer ranges (e.g. the slices of GpuWeights).
  void dispatch(const ComputePipeline& pipeline, std::initializer_list<VkDescriptorBufferInfo> buffers, const void* push,
                std::uint32_t push_bytes, GroupCount groups);

 private:
  void dispatch(const ComputePipeline& pipeline, std::span<const VkDescriptorBufferInfo> buffers, const void* push,
                std::uint32_t push_bytes, GroupCount groups);
  void destroy();
  VkCommandBuffer begin();
  void submit_and_wait(VkCommandBuffer cmd);
  void ensure_staging(std::uint64_t bytes);

  const Device& device_;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkCommandBuffer cmd_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  Buffer staging_;
};

}  // namespace ossdesk::vk

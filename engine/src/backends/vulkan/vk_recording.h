// One recorded command buffer of the forward pass, with everything it binds:
// its descriptor sets (allocated from its own pool, written once) and, when
// profiling, a timestamp query pool with one label per timed stage. Recorded
// once, submitted many times: decode replays the same recording every token.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/vulkan/vk_device.h"
#include "backends/vulkan/vk_pipeline.h"
#include "backends/vulkan/vk_runner.h"

namespace ossdesk::vk {

class Recording {
 public:
  // `max_dispatches` bounds the descriptor sets; `profile` adds timestamps.
  Recording(const Device& device, VkCommandPool pool, std::uint32_t max_dispatches, bool profile);
  ~Recording();
  Recording(const Recording&) = delete;
  Recording& operator=(const Recording&) = delete;

  void dispatch(const ComputePipeline& pipeline, std::span<const VkDescriptorBufferInfo> buffers, const void* push,
                std::uint32_t push_bytes, GroupCount groups);
  void dispatch(const ComputePipeline& pipeline, std::initializer_list<VkDescriptorBufferInfo> buffers,
                const void* push, std::uint32_t push_bytes, GroupCount groups) {
    dispatch(pipeline, std::span<const VkDescriptorBufferInfo>(buffers.begin(), buffers.size()), push, push_bytes, groups);
  }
  template <class Push>
  void dispatch(const ComputePipeline& pipeline, std::initializer_list<VkDescriptorBufferInfo> buffers,
                const Push& push, GroupCount groups) {
    dispatch(pipeline, buffers, &push, sizeof(Push), groups);
  }
  // Every earlier shader or transfer write is visible to every later read.
  void barrier();
  void copy(VkBuffer src, std::uint64_t src_offset, VkBuffer dst, std::uint64_t dst_offset, std::uint64_t bytes);
  // Ends the stage that began at the previous mark (or the start) under `label`.
  void mark(const char* label);
  void finish();  // ends recording; the transfers to host-visible buffers are made visible

  void submit_and_wait(VkFence fence);
  // Per-label GPU milliseconds of the last submission added to `sink`.
  void add_timings(std::vector<OpTiming>& sink) const;

 private:
  const Device& device_;
  VkCommandPool command_pool_;
  VkCommandBuffer cmd_ = VK_NULL_HANDLE;
  VkDescriptorPool descriptors_ = VK_NULL_HANDLE;
  VkQueryPool queries_ = VK_NULL_HANDLE;
  std::uint32_t max_queries_ = 0;
  std::vector<std::string> labels_;  // label i spans timestamps i .. i+1
  std::uint32_t dispatches_ = 0, max_dispatches_ = 0;
};

}  // namespace ossdesk::vk

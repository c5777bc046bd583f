#include "backends/vulkan/vk_recording.h"


#include "backends/vulkan/vk_check.h"
#include "ossdesk/error.h"

namespace ossdesk::vk {
namespace {
constexpr std::uint32_t kMaxBindingsPerDispatch = 10;  // router_topk's; the pipeline checks the device allows them
constexpr std::uint32_t kMaxStages = 1024;
}  // namespace

Recording::Recording(const Device& device, VkCommandPool pool, std::uint32_t max_dispatches, bool profile)
    : device_(device), command_pool_(pool), max_dispatches_(max_dispatches) {
  const VkDevice dev = device.handle();
  VkCommandBufferAllocateInfo ai{};
  ai.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
  ai.commandPool = pool;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  check(vkAllocateCommandBuffers(dev, &ai, &cmd_), "vkAllocateCommandBuffers");
  VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, max_dispatches * kMaxBindingsPerDispatch};
  VkDescriptorPoolCreateInfo di{};
  di.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
  di.maxSets = max_dispatches;
  di.poolSizeCount = 1;
  di.pPoolSizes = &size;
  check(vkCreateDescriptorPool(dev, &di, nullptr, &descriptors_), "vkCreateDescriptorPool");
  if (profile && device.physical().timestamps) {
    max_queries_ = kMaxStages + 1;
    VkQueryPoolCreateInfo qi{};
    qi.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO;
    qi.queryType = VK_QUERY_TYPE_TIMESTAMP;
    qi.queryCount = max_queries_;
    check(vkCreateQueryPool(dev, &qi, nullptr, &queries_), "vkCreateQueryPool");
  }
  VkCommandBufferBeginInfo bi{};
  bi.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  check(vkBeginCommandBuffer(cmd_, &bi), "vkBeginCommandBuffer");
  if (queries_) {
    vkCmdResetQueryPool(cmd_, queries_, 0, max_queries_);
    vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, queries_, 0);
  }
}

Recording::~Recording() {
  const VkDevice dev = device_.handle();
  if (queries_) vkDestroyQueryPool(dev, queries_, nullptr);
  if (descriptors_) vkDestroyDescriptorPool(dev, descriptors_, nullptr);
  if (cmd_) vkFreeCommandBuffers(dev, command_pool_, 1, &cmd_);
}

void Recording::dispatch(const ComputePipeline& pipeline, std::span<const VkDescriptorBufferInfo> buffers,
                         const void* push, std::uint32_t push_bytes, GroupCount groups) {
  const PipelineDesc& desc = pipeline.desc();
  if (buffers.size() != desc.buffers || buffers.size() > kMaxBindingsPerDispatch)
    fail(ErrorKind::Internal, "vulkan: " + desc.shader + " takes " + std::to_string(desc.buffers) + " buffers, got " +
                                  std::to_string(buffers.size()));
  if (push_bytes != desc.push_constant_bytes) fail(ErrorKind::Internal, "vulkan: " + desc.shader + " push constant size mismatch");
  if (++dispatches_ > max_dispatches_) fail(ErrorKind::Internal, "vulkan: more dispatches than the recording was sized for");
  const VkDevice dev = device_.handle();
  VkDescriptorSetLayout layout = pipeline.set_layout();
  VkDescriptorSetAllocateInfo ai{};
  ai.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO;
  ai.descriptorPool = descriptors_;
  ai.descriptorSetCount = 1;
  ai.pSetLayouts = &layout;
  VkDescriptorSet set = VK_NULL_HANDLE;
  check(vkAllocateDescriptorSets(dev, &ai, &set), "vkAllocateDescriptorSets");
  VkWriteDescriptorSet writes[kMaxBindingsPerDispatch];
  std::uint32_t i = 0;
  for (const VkDescriptorBufferInfo& info : buffers) {
    VkWriteDescriptorSet& w = writes[i];
    w = {};
    w.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
    w.dstSet = set;
    w.dstBinding = i;
    w.descriptorCount = 1;
    w.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    w.pBufferInfo = &info;
    ++i;
  }
  vkUpdateDescriptorSets(dev, i, writes, 0, nullptr);
  vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.handle());
  vkCmdBindDescriptorSets(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.layout(), 0, 1, &set, 0, nullptr);
  if (push_bytes) vkCmdPushConstants(cmd_, pipeline.layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes, push);
  vkCmdDispatch(cmd_, groups.x, groups.y, groups.z);
}

void Recording::barrier() {
  VkMemoryBarrier b{};
  b.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
  b.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  b.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                    VK_ACCESS_TRANSFER_WRITE_BIT;
  vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &b, 0, nullptr, 0,
                       nullptr);
}

void Recording::copy(VkBuffer src, std::uint64_t src_offset, VkBuffer dst, std::uint64_t dst_offset, std::uint64_t bytes) {
  VkBufferCopy region{src_offset, dst_offset, bytes};
  vkCmdCopyBuffer(cmd_, src, dst, 1, &region);
}

void Recording::mark(const char* label) {
  if (!queries_) return;
  if (labels_.size() + 1 >= max_queries_) fail(ErrorKind::Internal, "vulkan: too many profiled stages");
  labels_.emplace_back(label);
  vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries_, static_cast<std::uint32_t>(labels_.size()));
}

void Recording::finish() {
  VkMemoryBarrier b{};
  b.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
  b.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_SHADER_WRITE_BIT;
  b.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                       VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &b, 0, nullptr, 0, nullptr);
  check(vkEndCommandBuffer(cmd_), "vkEndCommandBuffer");
}

void Recording::submit_and_wait(VkFence fence) {
  VkSubmitInfo si{};
  si.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cmd_;
  check(vkResetFences(device_.handle(), 1, &fence), "vkResetFences");
  check(vkQueueSubmit(device_.queue(), 1, &si, fence), "vkQueueSubmit");
  check(vkWaitForFences(device_.handle(), 1, &fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");
}

void Recording::add_timings(std::vector<OpTiming>& sink) const {
  if (!queries_ || labels_.empty()) return;
  std::vector<std::uint64_t> ts(labels_.size() + 1);
  check(vkGetQueryPoolResults(device_.handle(), queries_, 0, static_cast<std::uint32_t>(ts.size()),
                              ts.size() * sizeof(std::uint64_t), ts.data(), sizeof(std::uint64_t),
                              VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
        "vkGetQueryPoolResults");
  const double ns_per_tick = device_.physical().timestamp_period_ns;
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    add_timing(sink, labels_[i], static_cast<double>(ts[i + 1] - ts[i]) * ns_per_tick * 1e-6, 1);
  }
}

}  // namespace ossdesk::vk

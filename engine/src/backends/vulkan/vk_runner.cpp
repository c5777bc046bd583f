#include "backends/vulkan/vk_runner.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "backends/vulkan/vk_check.h"
#include "backends/vulkan/vk_recording.h"
#include "ossdesk/error.h"

namespace ossdesk::vk {
namespace {

constexpr std::uint64_t kStagingChunk = 64ull << 20;  // at most this much host-visible memory per copy

}  // namespace

GroupCount flat_groups(const Device& device, std::uint64_t groups, std::uint32_t z) {
  const std::uint64_t max_x = device.physical().max_workgroup_count[0];
  const std::uint64_t max_y = device.physical().max_workgroup_count[1];
  GroupCount g;
  g.z = z;
  if (groups <= max_x) {
    g.x = static_cast<std::uint32_t>(std::max<std::uint64_t>(groups, 1));
    return g;
  }
  const std::uint64_t y = (groups + max_x - 1) / max_x;
  if (y > max_y) fail(ErrorKind::Unsupported, "vulkan: " + std::to_string(groups) + " workgroups exceed the device's grid");
  g.x = static_cast<std::uint32_t>(max_x);
  g.y = static_cast<std::uint32_t>(y);
  return g;
}

OpRunner::OpRunner(const Device& device) : device_(device) {
  const VkDevice dev = device.handle();
  try {
    VkCommandPoolCreateInfo pi{};
    pi.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
    pi.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pi.queueFamilyIndex = device.physical().compute_queue_family;
    check(vkCreateCommandPool(dev, &pi, nullptr, &pool_), "vkCreateCommandPool");
    VkCommandBufferAllocateInfo ai{};
    ai.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
    ai.commandPool = pool_;
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    check(vkAllocateCommandBuffers(dev, &ai, &cmd_), "vkAllocateCommandBuffers");
    VkFenceCreateInfo fi{};
    fi.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
    check(vkCreateFence(dev, &fi, nullptr, &fence_), "vkCreateFence");
  } catch (...) {
    destroy();
    throw;
  }
}

OpRunner::~OpRunner() { destroy(); }

void OpRunner::destroy() {
  const VkDevice dev = device_.handle();
  if (fence_) vkDestroyFence(dev, fence_, nullptr);
  if (pool_) vkDestroyCommandPool(dev, pool_, nullptr);  // frees cmd_
  fence_ = VK_NULL_HANDLE;
  pool_ = VK_NULL_HANDLE;
}

VkCommandBuffer OpRunner::begin() {
  check(vkResetCommandBuffer(cmd_, 0), "vkResetCommandBuffer");
  VkCommandBufferBeginInfo bi{};
  bi.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  check(vkBeginCommandBuffer(cmd_, &bi), "vkBeginCommandBuffer");
  return cmd_;
}

void OpRunner::submit_and_wait(VkCommandBuffer cmd) {
  check(vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
  VkSubmitInfo si{};
  si.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cmd;
  check(vkResetFences(device_.handle(), 1, &fence_), "vkResetFences");
  check(vkQueueSubmit(device_.queue(), 1, &si, fence_), "vkQueueSubmit");
  check(vkWaitForFences(device_.handle(), 1, &fence_, VK_TRUE, UINT64_MAX), "vkWaitForFences");
}

void OpRunner::ensure_staging(std::uint64_t bytes) {
  const std::uint64_t want = std::min(bytes, kStagingChunk);
  if (staging_.size() < want) staging_ = Buffer(device_, want, MemoryKind::Staging);
}

void OpRunner::upload(const Buffer& dst, const void* src, std::uint64_t bytes, std::uint64_t dst_offset) {
  if (dst_offset + bytes > dst.size()) fail(ErrorKind::Internal, "vulkan: upload past the end of a buffer");
  if (bytes == 0) return;
  ensure_staging(bytes);
  const auto* p = static_cast<const std::uint8_t*>(src);
  for (std::uint64_t done = 0; done < bytes;) {
    const std::uint64_t n = std::min(bytes - done, staging_.size());
    std::memcpy(staging_.mapped(), p + done, n);
    VkCommandBuffer cmd = begin();
    VkBufferCopy region{0, dst_offset + done, n};
    vkCmdCopyBuffer(cmd, staging_.handle(), dst.handle(), 1, &region);
    submit_and_wait(cmd);
    done += n;
  }
}

void OpRunner::download(const Buffer& src, void* dst, std::uint64_t bytes, std::uint64_t src_offset) {
  if (src_offset + bytes > src.size()) fail(ErrorKind::Internal, "vulkan: download past the end of a buffer");
  if (bytes == 0) return;
  ensure_staging(bytes);
  auto* p = static_cast<std::uint8_t*>(dst);
  for (std::uint64_t done = 0; done < bytes;) {
    const std::uint64_t n = std::min(bytes - done, staging_.size());
    VkCommandBuffer cmd = begin();
    VkBufferCopy region{src_offset + done, 0, n};
    vkCmdCopyBuffer(cmd, src.handle(), staging_.handle(), 1, &region);
    // Make the transfer's writes visible to the host read after the fence.
    VkMemoryBarrier barrier{};
    barrier.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
    barrier.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    barrier.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier, 0, nullptr, 0,
                         nullptr);
    submit_and_wait(cmd);
    std::memcpy(p + done, staging_.mapped(), n);
    done += n;
  }
}

void OpRunner::copy(const Buffer& src, const Buffer& dst, std::uint64_t bytes) {
  if (bytes > src.size() || bytes > dst.size()) fail(ErrorKind::Internal, "vulkan: copy past the end of a buffer");
  if (bytes == 0) return;
  VkCommandBuffer cmd = begin();
  VkMemoryBarrier before{};
  before.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
  before.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_SHADER_WRITE_BIT;
  before.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                       VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &before, 0, nullptr, 0, nullptr);
  VkBufferCopy region{0, 0, bytes};
  vkCmdCopyBuffer(cmd, src.handle(), dst.handle(), 1, &region);
  submit_and_wait(cmd);
}

void OpRunner::dispatch(const ComputePipeline& pipeline, std::initializer_list<const Buffer*> buffers, const void* push,
                        std::uint32_t push_bytes, GroupCount groups) {
  std::vector<VkDescriptorBufferInfo> infos;
  for (const Buffer* b : buffers) infos.push_back(whole(*b));
  dispatch(pipeline, std::span<const VkDescriptorBufferInfo>(infos), push, push_bytes, groups);
}

void OpRunner::dispatch(const ComputePipeline& pipeline, std::initializer_list<VkDescriptorBufferInfo> buffers,
                        const void* push, std::uint32_t push_bytes, GroupCount groups) {
  dispatch(pipeline, std::span<const VkDescriptorBufferInfo>(buffers.begin(), buffers.size()), push, push_bytes, groups);
}

void OpRunner::dispatch(const ComputePipeline& pipeline, std::span<const VkDescriptorBufferInfo> infos, const void* push,
                        std::uint32_t push_bytes, GroupCount groups) {
  // One-dispatch recording: the barriers order it after earlier uploads and
  // before later downloads.
  Recording r(device_, pool_, 1, false);
  r.barrier();
  r.dispatch(pipeline, infos, push, push_bytes, groups);
  r.barrier();
  r.finish();
  r.submit_and_wait(fence_);
}

}  // namespace ossdesk::vk

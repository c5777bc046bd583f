// Compute pipelines from the embedded SPIR-V. Every shader binds its storage
// buffers at set 0, bindings 0..n-1, takes its scalar arguments as push
// constants and its shape (workgroup size and friends) as specialization
// constants 0..k-1, so one module serves every device.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <string>
#include <vector>

#include "backends/vulkan/vk_device.h"

namespace ossdesk::vk {

struct PipelineDesc {
  std::string shader;                 // base name, e.g. "rmsnorm"
  std::uint32_t buffers = 0;          // storage buffers at bindings 0..buffers-1
  std::uint32_t push_constant_bytes = 0;
  std::vector<std::uint32_t> specialization;  // constant_id 0.. (id 0 = workgroup size x)
  // Use the "<shader>_subgroup" module when the device has subgroup arithmetic.
  bool prefer_subgroup = true;
};

class ComputePipeline {
 public:
  ComputePipeline(const Device& device, const PipelineDesc& desc);
  ~ComputePipeline();
  ComputePipeline(const ComputePipeline&) = delete;
  ComputePipeline& operator=(const ComputePipeline&) = delete;

  VkPipeline handle() const { return pipeline_; }
  VkPipelineLayout layout() const { return layout_; }
  VkDescriptorSetLayout set_layout() const { return set_layout_; }
  const PipelineDesc& desc() const { return desc_; }
  const std::string& module_name() const { return module_name_; }  // which SPIR-V variant runs

 private:
  void release();
  VkDevice device_ = VK_NULL_HANDLE;
  PipelineDesc desc_;
  std::string module_name_;
  VkShaderModule module_ = VK_NULL_HANDLE;
  VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  VkPipeline pipeline_ = VK_NULL_HANDLE;
};

}  // namespace ossdesk::vk

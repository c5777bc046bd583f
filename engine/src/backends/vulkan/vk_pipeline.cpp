#include "backends/vulkan/vk_pipeline.h"

#include "backends/vulkan/vk_check.h"
#include "backends/vulkan/vk_shaders.h"
#include "ossdesk/error.h"

namespace ossdesk::vk {

ComputePipeline::ComputePipeline(const Device& device, const PipelineDesc& desc) : device_(device.handle()), desc_(desc) {
  const PhysicalDevice& p = device.physical();
  if (desc.push_constant_bytes > p.max_push_constants_size)
    fail(ErrorKind::Unsupported, "vulkan: shader " + desc.shader + " needs " + std::to_string(desc.push_constant_bytes) +
                                     " bytes of push constants; " + p.info.name + " has " +
                                     std::to_string(p.max_push_constants_size));
  if (desc.buffers > p.max_storage_buffers_per_stage)
    fail(ErrorKind::Unsupported, "vulkan: shader " + desc.shader + " binds " + std::to_string(desc.buffers) +
                                     " storage buffers; " + p.info.name + " allows " +
                                     std::to_string(p.max_storage_buffers_per_stage) + " per shader stage");
  module_name_ = desc.prefer_subgroup && p.subgroup_arithmetic ? desc.shader + "_subgroup" : desc.shader;
  const auto spirv = find_spirv(module_name_);
  if (spirv.empty()) fail(ErrorKind::Internal, "vulkan: no embedded SPIR-V module named '" + module_name_ + "'");
  try {
    VkShaderModuleCreateInfo mi{};
    mi.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
    mi.codeSize = spirv.size_bytes();
    mi.pCode = spirv.data();
    check(vkCreateShaderModule(device_, &mi, nullptr, &module_), "vkCreateShaderModule");

    std::vector<VkDescriptorSetLayoutBinding> bindings(desc.buffers);
    for (std::uint32_t i = 0; i < desc.buffers; ++i) {
      bindings[i].binding = i;
      bindings[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      bindings[i].descriptorCount = 1;
      bindings[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
    }
    VkDescriptorSetLayoutCreateInfo li{};
    li.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
    li.bindingCount = desc.buffers;
    li.pBindings = bindings.data();
    check(vkCreateDescriptorSetLayout(device_, &li, nullptr, &set_layout_), "vkCreateDescriptorSetLayout");

    VkPushConstantRange range{};
    range.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
    range.size = desc.push_constant_bytes;
    VkPipelineLayoutCreateInfo pi{};
    pi.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
    pi.setLayoutCount = 1;
    pi.pSetLayouts = &set_layout_;
    pi.pushConstantRangeCount = desc.push_constant_bytes ? 1 : 0;
    pi.pPushConstantRanges = &range;
    check(vkCreatePipelineLayout(device_, &pi, nullptr, &layout_), "vkCreatePipelineLayout");

    std::vector<VkSpecializationMapEntry> entries(desc.specialization.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
      entries[i].constantID = static_cast<std::uint32_t>(i);
      entries[i].offset = static_cast<std::uint32_t>(i * sizeof(std::uint32_t));
      entries[i].size = sizeof(std::uint32_t);
    }
    VkSpecializationInfo si{};
    si.mapEntryCount = static_cast<std::uint32_t>(entries.size());
    si.pMapEntries = entries.data();
    si.dataSize = desc.specialization.size() * sizeof(std::uint32_t);
    si.pData = desc.specialization.data();

    VkComputePipelineCreateInfo ci{};
    ci.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
    ci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
    ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    ci.stage.module = module_;
    ci.stage.pName = "main";
    ci.stage.pSpecializationInfo = entries.empty() ? nullptr : &si;
    ci.layout = layout_;
    check(vkCreateComputePipelines(device_, VK_NULL_HANDLE, 1, &ci, nullptr, &pipeline_),
          ("vkCreateComputePipelines(" + module_name_ + ")").c_str());
  } catch (...) {
    release();
    throw;
  }
}

ComputePipeline::~ComputePipeline() { release(); }

void ComputePipeline::release() {
  if (pipeline_) vkDestroyPipeline(device_, pipeline_, nullptr);
  if (layout_) vkDestroyPipelineLayout(device_, layout_, nullptr);
  if (set_layout_) vkDestroyDescriptorSetLayout(device_, set_layout_, nullptr);
  if (module_) vkDestroyShaderModule(device_, module_, nullptr);
  pipeline_ = VK_NULL_HANDLE;
  layout_ = VK_NULL_HANDLE;
  set_layout_ = VK_NULL_HANDLE;
  module_ = VK_NULL_HANDLE;
}

}  // namespace ossdesk::vk

// The SPIR-V modules built from shaders/*.comp and embedded at build time
// (cmake/embed_spirv.cmake). Each shader exists as "<name>" (shared-memory
// reductions) and "<name>_subgroup" (subgroup arithmetic).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace ossdesk::vk {

// Empty span when no module has that name.
std::span<const std::uint32_t> find_spirv(std::string_view name);
std::vector<std::string_view> spirv_names();

}  // namespace ossdesk::vk

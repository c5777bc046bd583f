// The dispatches of one device draw (shaders/sample.comp), in order: the
// backend records them after the unembedding, and the op tests run the same
// list one dispatch at a time. A draw is a max pass, then for each filter in
// use (top-k, top-p) and for the draw itself a mass pass and eight digit
// passes (four bits of a 32-bit threshold each), then a pick pass over
// `groups` workgroups and a one-workgroup finish that writes the id.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "backends/sampling.h"
#include "backends/vulkan/vk_runner.h"

namespace ossdesk::vk {

// sample.comp's push constants.
struct DrawPush {
  std::uint32_t n, offset, params, groups, pass_index;
  std::uint32_t kind, phase, shift;
  std::uint32_t prev_kind, prev_phase, prev_shift;
};

// Invocations per workgroup: sample.comp's digit pass keeps 16 sums per
// invocation in shared memory, 8 KB at 128 (Vulkan guarantees 16 KB).
constexpr std::uint32_t kDrawWorkgroupSize = 128;
// Workgroups per pass: enough to spread a 201088-logit row over a GPU's
// SMs, few enough that settling their partial sums stays cheap.
constexpr std::uint32_t kMaxDrawGroups = 64;
// The most dispatches one draw records (both filters on).
constexpr std::uint32_t kMaxDrawDispatches = 1 + 3 * 9 + 2;

std::uint32_t draw_groups(std::uint32_t vocab, std::uint32_t workgroup_size);
// The sampling parameters as sample.comp reads them from the step buffer:
// u, 1/temperature, top_k (0 = off), top_p, min_p, floats as bits.
std::array<std::uint32_t, 5> draw_param_words(const SamplingParams& params, float u);
// The draw's scratch buffer: two states and two slots of partial sums.
std::uint64_t draw_scratch_bytes();
// The pushes of one draw over the logits row at `offset`, with the sampling
// parameters at word `params` of the step buffer.
std::vector<DrawPush> draw_passes(std::uint32_t vocab, std::uint32_t offset, std::uint32_t params, std::uint32_t groups,
                                  bool top_k, bool top_p);
// The workgroups a pass dispatches.
GroupCount draw_pass_groups(const DrawPush& push);

}  // namespace ossdesk::vk

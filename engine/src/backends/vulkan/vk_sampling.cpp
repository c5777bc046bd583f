#include "backends/vulkan/vk_sampling.h"

#include <algorithm>
#include <bit>

namespace ossdesk::vk {
namespace {

// sample.comp's pass kinds and phases.
enum : std::uint32_t { kMax, kMass, kDigit, kPick, kFinish };
enum : std::uint32_t { kTopK, kTopP, kFinal };
constexpr std::uint32_t kDigitBits = 4, kDigits = 1u << kDigitBits;
constexpr std::uint32_t kStateWords = 6;  // sample.comp's DrawState

}  // namespace

std::uint32_t draw_groups(std::uint32_t vocab, std::uint32_t workgroup_size) {
  return std::clamp(div_up(vocab, workgroup_size), 1u, kMaxDrawGroups);
}

std::array<std::uint32_t, 5> draw_param_words(const SamplingParams& params, float u) {
  const auto bits = [](float f) { return std::bit_cast<std::uint32_t>(f); };
  return {bits(u), bits(1.0f / params.temperature), static_cast<std::uint32_t>(std::max(0, params.top_k)), bits(params.top_p),
          bits(params.min_p)};
}

std::uint64_t draw_scratch_bytes() { return (2 * kStateWords + 2 * kMaxDrawGroups * kDigits) * 4; }

std::vector<DrawPush> draw_passes(std::uint32_t vocab, std::uint32_t offset, std::uint32_t params, std::uint32_t groups,
                                  bool top_k, bool top_p) {
  std::vector<DrawPush> passes;
  const auto add = [&](std::uint32_t kind, std::uint32_t phase, std::uint32_t shift) {
    DrawPush d{vocab, offset, params, groups, static_cast<std::uint32_t>(passes.size()), kind, phase, shift, 0, 0, 0};
    if (!passes.empty()) {
      d.prev_kind = passes.back().kind;
      d.prev_phase = passes.back().phase;
      d.prev_shift = passes.back().shift;
    }
    passes.push_back(d);
  };
  add(kMax, 0, 0);
  for (const std::uint32_t phase : {kTopK, kTopP, kFinal}) {
    if ((phase == kTopK && !top_k) || (phase == kTopP && !top_p)) continue;
    add(kMass, phase, 0);
    for (std::uint32_t shift = 32; shift > 0;) add(kDigit, phase, shift -= kDigitBits);
  }
  add(kPick, kFinal, 0);
  add(kFinish, kFinal, 0);
  return passes;
}

GroupCount draw_pass_groups(const DrawPush& push) { return {push.kind == kFinish ? 1u : push.groups, 1, 1}; }

}  // namespace ossdesk::vk

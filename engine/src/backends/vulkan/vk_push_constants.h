// The push constants of the shaders in shaders/, laid out as each shader's
// `Params` block declares them (std430 scalars: no padding). The backend and
// the op tests both fill these, so a shader's parameters are written once.
#pragma once

#include <cstdint>

namespace ossdesk::vk {

struct RmsNormPush {  // rmsnorm.comp
  std::uint32_t dim, rows;
  float eps;
};
struct EmbedPush {  // embed.comp
  std::uint32_t rows, row0, cols, row_stride;
};
struct MatvecPush {  // matvec.comp
  std::uint32_t rows, cols, row_stride, row0, y_stride, x_offset, tokens, flags;
  float eps;
  std::uint32_t half_dim;  // the RoPE epilogue's (EPILOGUE != 0); else unused
  float concentration;
  std::uint32_t ring;
};
struct MatvecDotPush {  // matvec_q8_dot.comp
  std::uint32_t rows, cols, row_stride, row0, y_stride, tokens, flags;
};
struct QuantizePush {  // quantize_q8.comp
  std::uint32_t blocks, x_offset;
};
struct RopePush {  // rope.comp
  std::uint32_t q_heads, kv_heads, half_dim;
  float concentration;
  std::uint32_t ring;
};
struct AttentionPush {  // attention.comp; split 0, splits 1: one workgroup sees all keys
  std::uint32_t heads, kv_heads, window, ring;
  float scale;
  std::uint32_t split, splits;
};
// attention.comp serves this many of a kv head's query heads per workgroup
// (its GROUP specialization): the largest divisor of heads_per_kv_head up to
// the shader's MAX_GROUP, so every head block lies within one kv head.
// Workgroups: heads / attention_head_group(...) of them per split and token.
constexpr std::uint32_t kAttentionMaxGroup = 8;
// Split mode's most splits (the shader's MAX_SPLITS: its fold keeps a weight
// per head and split in shared memory).
constexpr std::uint32_t kAttentionMaxSplits = 64;
constexpr std::uint32_t attention_head_group(std::uint32_t heads_per_kv_head) {
  std::uint32_t group = heads_per_kv_head < kAttentionMaxGroup ? heads_per_kv_head : kAttentionMaxGroup;
  while (group > 1 && heads_per_kv_head % group != 0) --group;
  return group;
}
struct PrefillAttentionPush {  // attention_prefill.comp
  std::uint32_t heads, kv_heads, window, ring;
  float scale;
  std::uint32_t tokens;
};
struct RouterPush {  // router_topk.comp
  std::uint32_t experts, k, tokens, cols, row_stride;
  float eps;
  std::uint32_t width, splits;  // router_split()
};
// router_topk.comp's split mode: a chunk of up to kRouterSplitTokens tokens
// (decode) spreads each token's logits over up to kRouterMaxSplits workgroups
// of `width` columns (whole 32-column blocks), grid {splits, tokens, 1}; the
// last of a token's workgroups sums the slices. Otherwise one workgroup per
// token sees all the columns: {cols, 1}, grid flat over the tokens.
constexpr std::uint32_t kRouterSplitTokens = 16;
constexpr std::uint32_t kRouterMaxSplits = 16;
struct RouterSplit {
  std::uint32_t width, splits;
};
constexpr RouterSplit router_split(std::uint32_t cols, std::uint32_t tokens) {
  const std::uint32_t blocks = cols / 32;
  if (tokens > kRouterSplitTokens || cols % 32 != 0 || blocks < 2) return {cols, 1};
  const std::uint32_t per_slice = (blocks + kRouterMaxSplits - 1) / kRouterMaxSplits;
  return {per_slice * 32, (blocks + per_slice - 1) / per_slice};
}
struct GateUpPush {  // moe_gate_up.comp
  std::uint32_t hidden, inter, k, e0, count;
  float limit;
};
struct DownPush {  // moe_down.comp
  std::uint32_t hidden, inter, k, e0, count;
};
struct RoutePush {  // moe_route.comp
  std::uint32_t assignments, experts, entry_base;
};
struct GateUpGroupedPush {  // moe_gate_up_grouped.comp
  std::uint32_t hidden, inter, k, e0, count;
  float limit;
  std::uint32_t entry_base;
};
struct DownGroupedPush {  // moe_down_grouped.comp
  std::uint32_t hidden, inter, k, e0, count, entry_base;
};
struct CombinePush {  // moe_combine.comp
  std::uint32_t hidden, k, tokens;
};
struct ArgmaxPush {  // argmax.comp
  std::uint32_t n, per_group, offset;
};

// The routing table of the grouped experts (common/moe_route.glsl): ROUTE_TILES
// header words, then 3 words (expert, first entry, count) for each of up to
// max_route_tiles() tiles, then the assignments grouped by expert from
// route_entry_base().
constexpr std::uint32_t kRouteTiles = 4;
// Every expert may leave one partial tile beyond the full ones.
inline std::uint32_t max_route_tiles(std::uint64_t assignments, std::uint32_t experts, std::uint32_t tile) {
  return static_cast<std::uint32_t>((assignments + tile - 1) / tile) + experts;
}
inline std::uint32_t route_entry_base(std::uint32_t max_tiles) { return kRouteTiles + 3 * max_tiles; }

}  // namespace ossdesk::vk

#version 450
// moe_gate_up for a batch of tokens, grouped by expert: one workgroup computes
// PAIRS activations for every assignment of one routing tile (up to TILE
// tokens of one expert), so each weight block is read once per tile instead
// of once per token. Same math and output layout as moe_gate_up.
// Workgroups: x over pair groups, y over tiles (past the tile count: return).
#ifdef OSSDESK_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint PAIRS = 1;  // 1..2
layout(constant_id = 2) const uint TILE = 8;   // 1..8
const uint MAX_ROWS = 4;
const uint MAX_TILE = 8;

layout(std430, binding = 0) readonly buffer Route { uint route[]; };
layout(std430, binding = 1) readonly buffer Qs { uvec4 qs[]; };
layout(std430, binding = 2) readonly buffer Scales { uint scales[]; };
layout(std430, binding = 3) readonly buffer X { vec4 in4[]; };        // [tokens x hidden], normed
layout(std430, binding = 4) readonly buffer Bias { float bias[]; };   // [experts x 2*inter]
layout(std430, binding = 5) writeonly buffer Act { float act[]; };    // [tokens x k x inter]

layout(push_constant) uniform Params {
  uint hidden;
  uint inter;
  uint k;
  uint e0;
  uint count;
  float limit;
  uint entry_base;
} p;

#include "common/reduce.glsl"
#include "common/mxfp4.glsl"
#include "common/moe_route.glsl"
#include "common/moe_tile.glsl"

void main() {
  load_fp4_values();  // before any return: it has a barrier
  const uint i0 = gl_WorkGroupID.x * PAIRS;
  const uint tile = gl_WorkGroupID.y;
  if (tile >= route[0] || i0 >= p.inter) return;  // uniform
  const uint e = route[ROUTE_TILES + 3u * tile];
  if (e < p.e0 || e - p.e0 >= p.count) return;  // uniform: another group's expert
  const uint first = route[ROUTE_TILES + 3u * tile + 1u];
  const uint n = route[ROUTE_TILES + 3u * tile + 2u];
  const uint tid = gl_LocalInvocationID.x;
  const uint blocks = p.hidden / 32u;
  const uint rows_per_expert = 2u * p.inter;

  uint entry[MAX_TILE], xbase[MAX_TILE];
  for (uint j = 0; j < TILE; ++j) {
    entry[j] = route[p.entry_base + first + min(j, n - 1u)];
    xbase[j] = (entry[j] / p.k) * (p.hidden / 4u);  // the token's normed row
  }
  float acc[MAX_ROWS][MAX_TILE];
  tile_sums((e - p.e0) * rows_per_expert * blocks, 2u * i0, 2u * PAIRS, rows_per_expert - 1u, blocks, xbase, acc);
  for (uint j = 0; j < TILE; ++j) {
    for (uint pr = 0; pr < PAIRS; ++pr) {
      const float glu = workgroup_sum(acc[2 * pr][j]);
      const float lin = workgroup_sum(acc[2 * pr + 1][j]);
      const uint i = i0 + pr;
      if (tid == 0 && i < p.inter && j < n) {
        const float g = min(glu + bias[e * rows_per_expert + 2u * i], p.limit);
        const float u = clamp(lin + bias[e * rows_per_expert + 2u * i + 1u], -p.limit, p.limit);
        act[entry[j] * p.inter + i] = g / (1.0 + exp(-1.702 * g)) * (u + 1.0);
      }
    }
  }
}

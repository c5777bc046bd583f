#version 450
// moe_down for a batch of tokens, grouped by expert (see moe_gate_up_grouped):
// out[a][r] = w[a] * (W_down[e][r] . act[a] + b[e][r]) for each assignment a
// of a tile. moe_combine then adds each token's k outputs to the residual, so
// no two workgroups write the same value.
#ifdef OSSDESK_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ROWS = 1;  // 1..4
layout(constant_id = 2) const uint TILE = 8;  // 1..8
const uint MAX_ROWS = 4;
const uint MAX_TILE = 8;

layout(std430, binding = 0) readonly buffer Route { uint route[]; };
layout(std430, binding = 1) readonly buffer Weight { float weight[]; };  // [tokens x k]
layout(std430, binding = 2) readonly buffer Qs { uvec4 qs[]; };
layout(std430, binding = 3) readonly buffer Scales { uint scales[]; };
layout(std430, binding = 4) readonly buffer Act { vec4 in4[]; };        // [tokens x k x inter]
layout(std430, binding = 5) readonly buffer Bias { float bias[]; };     // [experts x hidden]
layout(std430, binding = 6) writeonly buffer Out { float out_[]; };     // [tokens x k x hidden]

layout(push_constant) uniform Params {
  uint hidden;
  uint inter;
  uint k;
  uint e0;
  uint count;
  uint entry_base;
} p;

#include "common/reduce.glsl"
#include "common/mxfp4.glsl"
#include "common/moe_route.glsl"
#include "common/moe_tile.glsl"

void main() {
  load_fp4_values();  // before any return: it has a barrier
  const uint r0 = gl_WorkGroupID.x * ROWS;
  const uint tile = gl_WorkGroupID.y;
  if (tile >= route[0] || r0 >= p.hidden) return;  // uniform
  const uint e = route[ROUTE_TILES + 3u * tile];
  if (e < p.e0 || e - p.e0 >= p.count) return;  // uniform
  const uint first = route[ROUTE_TILES + 3u * tile + 1u];
  const uint n = route[ROUTE_TILES + 3u * tile + 2u];
  const uint tid = gl_LocalInvocationID.x;
  const uint blocks = p.inter / 32u;

  uint entry[MAX_TILE], xbase[MAX_TILE];
  for (uint j = 0; j < TILE; ++j) {
    entry[j] = route[p.entry_base + first + min(j, n - 1u)];
    xbase[j] = entry[j] * (p.inter / 4u);  // the assignment's activations
  }
  float acc[MAX_ROWS][MAX_TILE];
  tile_sums((e - p.e0) * p.hidden * blocks, r0, ROWS, p.hidden - 1u, blocks, xbase, acc);
  for (uint j = 0; j < TILE; ++j) {
    for (uint r = 0; r < ROWS; ++r) {
      const float total = workgroup_sum(acc[r][j]);
      const uint row = r0 + r;
      if (tid == 0 && row < p.hidden && j < n)
        out_[entry[j] * p.hidden + row] = weight[entry[j]] * (total + bias[e * p.hidden + row]);
    }
  }
}

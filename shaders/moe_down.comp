#version 450
// The second half of the expert MLP, fused with the routing weights and the
// residual: x[t][r] += sum over slots s of w[t][s] * (W_down[e_s][r] . act[t][s] + b[e_s][r]).
// One workgroup computes ROWS hidden rows of one token, looping over the k
// slots itself, so no partial sums go through memory. Experts are uploaded in
// groups (see moe_gate_up); each group's dispatch adds the slots whose expert
// it holds. Workgroups: flat x/y over row groups, z over tokens.
#ifdef OSSDESK_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ROWS = 1;  // 1..4
const uint MAX_ROWS = 4;

layout(std430, binding = 0) readonly buffer Choice { uint choice[]; };    // [tokens x k]
layout(std430, binding = 1) readonly buffer Weight { float weight[]; };   // [tokens x k]
layout(std430, binding = 2) readonly buffer Qs { uvec4 qs[]; };
layout(std430, binding = 3) readonly buffer Scales { uint scales[]; };
layout(std430, binding = 4) readonly buffer Act { vec4 act4[]; };        // [tokens x k x inter]
layout(std430, binding = 5) readonly buffer Bias { float bias[]; };       // [experts x hidden]
layout(std430, binding = 6) buffer X { float x[]; };                      // [tokens x hidden], residual

layout(push_constant) uniform Params {
  uint hidden;
  uint inter;  // multiple of 32
  uint k;
  uint e0;
  uint count;
} p;

#include "common/reduce.glsl"
#include "common/mxfp4.glsl"

void main() {
  load_fp4_values();  // before any return: it has a barrier
  const uint r0 = flat_workgroup_id() * ROWS;
  if (r0 >= p.hidden) return;  // uniform across the workgroup
  const uint t = gl_WorkGroupID.z;
  const uint tid = gl_LocalInvocationID.x;
  const uint blocks = p.inter / 32u;

  float acc[MAX_ROWS];
  for (uint r = 0; r < MAX_ROWS; ++r) acc[r] = 0.0;
  float bias_sum[MAX_ROWS];
  for (uint r = 0; r < MAX_ROWS; ++r) bias_sum[r] = 0.0;
  bool any = false;
  for (uint s = 0; s < p.k; ++s) {
    const uint e = choice[t * p.k + s];
    if (e < p.e0 || e - p.e0 >= p.count) continue;  // uniform
    any = true;
    const float ws = weight[t * p.k + s];
    const uint ab = (t * p.k + s) * p.inter / 4u;
    for (uint b = tid; b < blocks; b += gl_WorkGroupSize.x) {
      vec4 xs[8];
      for (uint j = 0; j < 8u; ++j) xs[j] = act4[ab + b * 8u + j];
      for (uint r = 0; r < ROWS; ++r) {
        const uint row = min(r0 + r, p.hidden - 1u);
        const uint block = ((e - p.e0) * p.hidden + row) * blocks + b;
        acc[r] += ws * block_dot(qs[block], xs) * block_scale(block);
      }
    }
    for (uint r = 0; r < ROWS; ++r) bias_sum[r] += ws * bias[e * p.hidden + min(r0 + r, p.hidden - 1u)];
  }
  if (!any) return;  // uniform: no slot of this token uses this group
  for (uint r = 0; r < ROWS; ++r) {
    const float total = workgroup_sum(acc[r]);
    const uint row = r0 + r;
    if (tid == 0 && row < p.hidden) x[t * p.hidden + row] += total + bias_sum[r];
  }
}

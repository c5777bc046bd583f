#version 450
// The first half of gpt-oss's expert MLP for the experts the router chose:
//   h = W_gate_up[e] x + b[e],  act = clamp-SwiGLU(h_glu, h_linear)
// with the gate_up rows interleaved (row 2i = glu, row 2i+1 = linear), fused
// so the 2 x intermediate pre-activations never reach memory. One workgroup
// computes PAIRS outputs i for one (token, slot): the expert is the slot's
// router choice. Experts are uploaded in groups (a group's weights fit one
// storage buffer); this dispatch covers experts e0 .. e0+count-1 and a
// workgroup whose expert is elsewhere returns at once.
// Workgroups: x over pair groups, y over slots, z over tokens.
#ifdef OSSDESK_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint PAIRS = 1;  // 1..4
const uint MAX_PAIRS = 4;

layout(std430, binding = 0) readonly buffer Choice { uint choice[]; };  // [tokens x k]
layout(std430, binding = 1) readonly buffer Qs { uvec4 qs[]; };
layout(std430, binding = 2) readonly buffer Scales { uint scales[]; };
layout(std430, binding = 3) readonly buffer X { vec4 x4[]; };        // [tokens x hidden], normed
layout(std430, binding = 4) readonly buffer Bias { float bias[]; };   // [experts x 2*inter], interleaved
layout(std430, binding = 5) writeonly buffer Act { float act[]; };    // [tokens x k x inter]

layout(push_constant) uniform Params {
  uint hidden;  // multiple of 32
  uint inter;
  uint k;
  uint e0;
  uint count;
  float limit;
} p;

#include "common/reduce.glsl"
#include "common/mxfp4.glsl"

void main() {
  load_fp4_values();  // before any return: it has a barrier
  const uint i0 = gl_WorkGroupID.x * PAIRS;
  const uint slot = gl_WorkGroupID.y;
  const uint t = gl_WorkGroupID.z;
  const uint e = choice[t * p.k + slot];
  if (i0 >= p.inter || e < p.e0 || e - p.e0 >= p.count) return;  // uniform across the workgroup
  const uint tid = gl_LocalInvocationID.x;
  const uint blocks = p.hidden / 32u;
  const uint rows_per_expert = 2u * p.inter;
  const uint xb = t * p.hidden / 4u;

  float acc[2 * MAX_PAIRS];
  for (uint r = 0; r < 2 * MAX_PAIRS; ++r) acc[r] = 0.0;
  for (uint b = tid; b < blocks; b += gl_WorkGroupSize.x) {
    vec4 xs[8];
    for (uint j = 0; j < 8u; ++j) xs[j] = x4[xb + b * 8u + j];
    for (uint r = 0; r < 2 * PAIRS; ++r) {
      const uint row = min(2u * i0 + r, rows_per_expert - 1u);
      const uint block = ((e - p.e0) * rows_per_expert + row) * blocks + b;
      acc[r] += block_dot(qs[block], xs) * block_scale(block);
    }
  }
  for (uint j = 0; j < PAIRS; ++j) {
    const float glu = workgroup_sum(acc[2 * j]);
    const float lin = workgroup_sum(acc[2 * j + 1]);
    const uint i = i0 + j;
    if (tid == 0 && i < p.inter) {
      const float g = min(glu + bias[e * rows_per_expert + 2u * i], p.limit);
      const float u = clamp(lin + bias[e * rows_per_expert + 2u * i + 1u], -p.limit, p.limit);
      act[(t * p.k + slot) * p.inter + i] = g / (1.0 + exp(-1.702 * g)) * (u + 1.0);
    }
  }
}

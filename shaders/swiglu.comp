#version 450
// Clamped SwiGLU of gpt-oss's experts, elementwise over n values:
//   g = min(gate, limit), u = clamp(up, -limit, limit),
//   out = g * sigmoid(1.702 g) * (u + 1).
// One invocation per element, spread over workgroups x and y.
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Gate { float gate[]; };
layout(std430, binding = 1) readonly buffer Up { float up[]; };
layout(std430, binding = 2) writeonly buffer Out { float out_[]; };

layout(push_constant) uniform Params {
  uint n;
  float limit;
} p;

#include "common/grid.glsl"

void main() {
  const uint i = flat_workgroup_id() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.n) return;
  const float g = min(gate[i], p.limit);
  const float u = clamp(up[i], -p.limit, p.limit);
  out_[i] = g / (1.0 + exp(-1.702 * g)) * (u + 1.0);
}

#version 450
// x[t][r] += sum over slots s of out[t][s][r]: the residual add that ends the
// grouped expert MLP (moe_down_grouped). One invocation per (token, row).
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Out { float out_[]; };  // [tokens x k x hidden]
layout(std430, binding = 1) buffer X { float x[]; };                // [tokens x hidden]

layout(push_constant) uniform Params {
  uint hidden;
  uint k;
  uint tokens;
} p;

#include "common/grid.glsl"

void main() {
  const uint i = flat_workgroup_id() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.tokens * p.hidden) return;
  const uint t = i / p.hidden, r = i - t * p.hidden;
  float sum = 0.0;
  for (uint s = 0; s < p.k; ++s) sum += out_[(t * p.k + s) * p.hidden + r];
  x[i] += sum;
}

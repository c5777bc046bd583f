#version 450
// out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * scale, one workgroup per row (float32).
#ifdef OSSDESK_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Scale { float scale[]; };
layout(std430, binding = 2) writeonly buffer Out { float out_[]; };

layout(push_constant) uniform Params {
  uint dim;
  uint rows;
  float eps;
} p;

#include "common/reduce.glsl"

void main() {
  const uint row = flat_workgroup_id();
  if (row >= p.rows) return;  // uniform across the workgroup
  const uint tid = gl_LocalInvocationID.x;
  const uint base = row * p.dim;
  float ss = 0.0;
  for (uint i = tid; i < p.dim; i += gl_WorkGroupSize.x) {
    const float v = x[base + i];
    ss += v * v;
  }
  ss = workgroup_sum(ss);
  const float inv = inversesqrt(ss / float(p.dim) + p.eps);
  for (uint i = tid; i < p.dim; i += gl_WorkGroupSize.x) out_[base + i] = x[base + i] * inv * scale[i];
}

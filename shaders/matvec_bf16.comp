#version 450
// y[t][r] = dot(W[r], x[t]) + bias[r] for a row-major BF16 matrix.
// One workgroup computes ROWS consecutive rows of one token (gl_WorkGroupID.z).
// W is read as 32-bit words holding two BF16 values (no 16-bit storage needed);
// row_stride is in elements and must be even so rows start on a word.
#ifdef OSSDESK_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ROWS = 1;  // 1..4
const uint MAX_ROWS = 4;

layout(std430, binding = 0) readonly buffer W { uint w[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };

layout(push_constant) uniform Params {
  uint rows;
  uint cols;
  uint row_stride;  // elements
  uint has_bias;
} p;

#include "common/reduce.glsl"

void main() {
  const uint row0 = flat_workgroup_id() * ROWS;
  if (row0 >= p.rows) return;  // uniform across the workgroup
  const uint tid = gl_LocalInvocationID.x;
  const uint t = gl_WorkGroupID.z;
  const uint xb = t * p.cols;
  const uint pairs = p.cols / 2;

  float acc[MAX_ROWS];
  for (uint r = 0; r < MAX_ROWS; ++r) acc[r] = 0.0;
  for (uint r = 0; r < ROWS; ++r) {
    const uint row = row0 + r;
    if (row >= p.rows) break;
    const uint wb = row * (p.row_stride / 2);
    float sum = 0.0;
    for (uint k = tid; k < pairs; k += gl_WorkGroupSize.x) {
      const uint word = w[wb + k];
      sum += uintBitsToFloat(word << 16) * x[xb + 2 * k] + uintBitsToFloat(word & 0xffff0000u) * x[xb + 2 * k + 1];
    }
    if ((p.cols & 1u) != 0 && tid == 0) sum += uintBitsToFloat(w[wb + pairs] << 16) * x[xb + p.cols - 1];
    acc[r] = sum;
  }
  for (uint r = 0; r < ROWS; ++r) {
    const float total = workgroup_sum(acc[r]);
    const uint row = row0 + r;
    if (tid == 0 && row < p.rows) y[t * p.rows + row] = total + (p.has_bias != 0 ? bias[row] : 0.0);
  }
}

#version 450
// y[t][r] = dot(W[r], x[t]) + bias[r] for an MXFP4 matrix in the GGML layout:
// each row is cols/32 blocks of 17 bytes, an E8M0 scale byte then 16 bytes whose
// low nibbles are elements 0..15 and high nibbles elements 16..31 (FP4 E2M1).
// One workgroup computes ROWS consecutive rows of one token (gl_WorkGroupID.z);
// an invocation takes a quarter block: 4 bytes = 8 values.
// The blocks are not 4-byte aligned, so W is addressed in bytes over 32-bit words.
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
  uint cols;        // a multiple of 32
  uint row_stride;  // bytes
  uint has_bias;
} p;

#include "common/reduce.glsl"

const float kFp4[16] = float[16](0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0,
                                 -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0);

uint load_byte(uint addr) { return (w[addr >> 2] >> ((addr & 3u) * 8u)) & 0xffu; }

// 2^(e-127) exactly; 0 is the subnormal 2^-127 and 255 is NaN, as E8M0 defines.
float e8m0(uint e) {
  if (e == 0u) return uintBitsToFloat(0x00400000u);
  if (e == 255u) return uintBitsToFloat(0x7fc00000u);
  return uintBitsToFloat(e << 23);
}

void main() {
  const uint row0 = flat_workgroup_id() * ROWS;
  if (row0 >= p.rows) return;  // uniform across the workgroup
  const uint tid = gl_LocalInvocationID.x;
  const uint t = gl_WorkGroupID.z;
  const uint xb = t * p.cols;
  const uint quarters = (p.cols / 32) * 4;

  float acc[MAX_ROWS];
  for (uint r = 0; r < MAX_ROWS; ++r) acc[r] = 0.0;
  for (uint r = 0; r < ROWS; ++r) {
    const uint row = row0 + r;
    if (row >= p.rows) break;
    float sum = 0.0;
    for (uint u = tid; u < quarters; u += gl_WorkGroupSize.x) {
      const uint b = u >> 2;
      const uint q = u & 3u;
      const uint base = row * p.row_stride + b * 17u;
      const uint xe = xb + b * 32u + q * 4u;
      float part = 0.0;
      for (uint i = 0; i < 4; ++i) {
        const uint byte_ = load_byte(base + 1u + q * 4u + i);
        part += kFp4[byte_ & 15u] * x[xe + i] + kFp4[byte_ >> 4] * x[xe + 16u + i];
      }
      sum += part * e8m0(load_byte(base));
    }
    acc[r] = sum;
  }
  for (uint r = 0; r < ROWS; ++r) {
    const float total = workgroup_sum(acc[r]);
    const uint row = row0 + r;
    if (tid == 0 && row < p.rows) y[t * p.rows + row] = total + (p.has_bias != 0 ? bias[row] : 0.0);
  }
}

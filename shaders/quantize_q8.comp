#version 450
// Activations to 8-bit blocks for the integer-dot matrix-vector product
// (matvec_q8_dot.comp): each block of 32 floats of x becomes 32 int8 codes
// (8 words, low byte = first value) and one float scale d = max|x| / 127, with
// code = floor(x * 127 / max|x| + 0.5). One invocation per block.
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer X { float x[]; };      // [tokens x cols] from x_offset
layout(std430, binding = 1) writeonly buffer XQ { uint xq[]; };    // [tokens x cols/4]
layout(std430, binding = 2) writeonly buffer XS { float xs[]; };   // [tokens x cols/32]

layout(push_constant) uniform Params {
  uint blocks;    // tokens x cols / 32
  uint x_offset;  // floats
} p;

#include "common/grid.glsl"

void main() {
  const uint b = flat_workgroup_id() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (b >= p.blocks) return;
  const uint base = p.x_offset + b * 32u;
  float amax = 0.0;
  for (uint i = 0; i < 32u; ++i) amax = max(amax, abs(x[base + i]));
  const float inv = amax > 0.0 ? 127.0 / amax : 0.0;
  for (uint w = 0; w < 8u; ++w) {
    uint word = 0u;
    for (uint i = 0; i < 4u; ++i) {
      const int code = clamp(int(floor(x[base + 4u * w + i] * inv + 0.5)), -127, 127);
      word |= (uint(code) & 0xffu) << (8u * i);
    }
    xq[b * 8u + w] = word;
  }
  xs[b] = amax / 127.0;
}

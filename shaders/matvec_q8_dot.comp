#version 450
// y[t][row0 + r] (=|+=) dot(W[r], x[t]) + bias[row0 + r] for a Q8 matrix
// (common/dense.glsl FORMAT 3: int8 codes + one float scale per 32) against
// activations quantized the same way (quantize_q8.comp): per block of 32, the
// integer dot product of the codes (eight packed 4 x int8 dot products) times
// both scales. Same grid and flags as matvec.comp: one workgroup computes ROWS
// rows for TOKENS tokens. Used where the device has integer dot products and
// the work is bound by arithmetic (prefill), not by the weight bytes.
#ifdef OSSDESK_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ROWS = 1;    // 1..4
layout(constant_id = 2) const uint TOKENS = 1;  // 1..8
const uint MAX_ROWS = 4;
const uint MAX_TOKENS = 8;

layout(std430, binding = 0) readonly buffer W { uint w[]; };
layout(std430, binding = 1) readonly buffer WScale { float wscale[]; };
layout(std430, binding = 2) readonly buffer XQ { uint xq[]; };
layout(std430, binding = 3) readonly buffer XS { float xs[]; };
layout(std430, binding = 4) readonly buffer Bias { float bias[]; };
layout(std430, binding = 5) buffer Y { float y[]; };

layout(push_constant) uniform Params {
  uint rows;        // rows in this part
  uint cols;        // a multiple of 32
  uint row_stride;  // words
  uint row0;        // this part's first output row
  uint y_stride;    // floats between tokens' outputs
  uint tokens;
  uint flags;       // 1: add bias, 2: accumulate into y
} p;

#include "common/reduce.glsl"
#include "common/int8_dot.glsl"

void main() {
  const uint r0 = flat_workgroup_id() * ROWS;
  if (r0 >= p.rows) return;  // uniform across the workgroup
  const uint t0 = gl_WorkGroupID.z * TOKENS;
  const uint tid = gl_LocalInvocationID.x;
  const uint blocks = p.cols / 32u;
  const uint nt = min(TOKENS, p.tokens - t0);

  float acc[MAX_ROWS][MAX_TOKENS];
  for (uint r = 0; r < MAX_ROWS; ++r)
    for (uint t = 0; t < MAX_TOKENS; ++t) acc[r][t] = 0.0;

  for (uint b = tid; b < blocks; b += gl_WorkGroupSize.x) {
    uvec4 xlo[MAX_TOKENS], xhi[MAX_TOKENS];
    float xscale[MAX_TOKENS];
    for (uint t = 0; t < TOKENS; ++t) {
      const uint tt = min(t0 + t, p.tokens - 1u);
      const uint xb = (tt * blocks + b) * 8u;
      xlo[t] = uvec4(xq[xb], xq[xb + 1u], xq[xb + 2u], xq[xb + 3u]);
      xhi[t] = uvec4(xq[xb + 4u], xq[xb + 5u], xq[xb + 6u], xq[xb + 7u]);
      xscale[t] = xs[tt * blocks + b];
    }
    for (uint r = 0; r < ROWS; ++r) {
      const uint row = min(r0 + r, p.rows - 1u);
      const uint wb = row * p.row_stride + b * 8u;
      const uvec4 wlo = uvec4(w[wb], w[wb + 1u], w[wb + 2u], w[wb + 3u]);
      const uvec4 whi = uvec4(w[wb + 4u], w[wb + 5u], w[wb + 6u], w[wb + 7u]);
      const float ws = wscale[row * blocks + b];
      for (uint t = 0; t < TOKENS; ++t) {
        int s = 0;
        for (uint i = 0; i < 4u; ++i) s += dot4x8(wlo[i], xlo[t][i]) + dot4x8(whi[i], xhi[t][i]);
        acc[r][t] += float(s) * ws * xscale[t];
      }
    }
  }
  for (uint r = 0; r < ROWS; ++r) {
    for (uint t = 0; t < TOKENS; ++t) {
      const float total = workgroup_sum(acc[r][t]);
      const uint row = r0 + r;
      if (tid == 0 && row < p.rows && t < nt) {
        const uint o = (t0 + t) * p.y_stride + p.row0 + row;
        const float v = total + ((p.flags & 1u) != 0 ? bias[p.row0 + row] : 0.0);
        y[o] = (p.flags & 2u) != 0 ? y[o] + v : v;
      }
    }
  }
}

#version 450
// y[t][row0 + r] (=|+=) dot(W[r], x[t]) + bias[row0 + r] for a dense matrix
// in one of the layouts of common/dense.glsl. One workgroup computes ROWS
// consecutive rows for TOKENS consecutive tokens, so each weight word read
// from memory serves TOKENS tokens (prefill); decode runs with TOKENS = 1.
// Workgroups: flat x/y over row groups, z over token groups. A matrix split
// into row parts (larger than a storage buffer) is one dispatch per part with
// its own row0. `accumulate` adds into y (the residual connection).
// `norm_input` takes x as the residual and multiplies its RMSNorm instead:
// dot(W[r], x * norm) / sqrt(mean(x^2) + eps), the sum of squares gathered
// in the same pass over x, so the norm needs no dispatch (and no barrier) of
// its own before its consumers.
#ifdef OSSDESK_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ROWS = 1;    // 1..4
layout(constant_id = 2) const uint FORMAT = 2;
layout(constant_id = 3) const uint TOKENS = 1;  // 1..8
const uint MAX_ROWS = 4;
const uint MAX_TOKENS = 8;

layout(std430, binding = 0) readonly buffer W { uint w[]; };
layout(std430, binding = 1) readonly buffer WScale { float wscale[]; };
layout(std430, binding = 2) readonly buffer X { float x[]; };
layout(std430, binding = 3) readonly buffer Bias { float bias[]; };
layout(std430, binding = 4) buffer Y { float y[]; };
layout(std430, binding = 5) readonly buffer Norm { float norm[]; };  // [cols], with `norm_input`

layout(push_constant) uniform Params {
  uint rows;        // rows in this part
  uint cols;
  uint row_stride;  // words
  uint row0;        // this part's first output row
  uint y_stride;    // floats between tokens' outputs
  uint x_offset;    // floats: where token 0's input starts
  uint tokens;
  uint flags;       // 1: add bias, 2: accumulate into y, 4: norm_input (x is the residual)
  float eps;        // with `norm_input`
} p;

#include "common/reduce.glsl"
#include "common/dense.glsl"

void main() {
  const uint r0 = flat_workgroup_id() * ROWS;
  if (r0 >= p.rows) return;  // uniform across the workgroup
  const uint t0 = gl_WorkGroupID.z * TOKENS;
  const uint tid = gl_LocalInvocationID.x;
  const uint vpw = values_per_word();
  const uint words = (p.cols + vpw - 1u) / vpw;
  const uint nt = min(TOKENS, p.tokens - t0);
  const bool norm_input = (p.flags & 4u) != 0;  // uniform

  float acc[MAX_ROWS][MAX_TOKENS];
  float squares[MAX_TOKENS];
  for (uint t = 0; t < MAX_TOKENS; ++t) {
    squares[t] = 0.0;
    for (uint r = 0; r < MAX_ROWS; ++r) acc[r][t] = 0.0;
  }

  for (uint k = tid; k < words; k += gl_WorkGroupSize.x) {
    const uint c = k * vpw;
    vec4 xv[MAX_TOKENS];
    for (uint t = 0; t < TOKENS; ++t) {
      xv[t] = vec4(0.0);
      if (t < nt) {
        const uint xb = p.x_offset + (t0 + t) * p.cols + c;
        for (uint i = 0; i < vpw; ++i) xv[t][i] = c + i < p.cols ? x[xb + i] : 0.0;
        if (norm_input) {
          squares[t] += dot(xv[t], xv[t]);
          for (uint i = 0; i < vpw; ++i) xv[t][i] *= c + i < p.cols ? norm[c + i] : 0.0;
        }
      }
    }
    for (uint r = 0; r < ROWS; ++r) {
      const uint row = min(r0 + r, p.rows - 1u);
      vec4 wv = unpack_word(w[row * p.row_stride + k]);
      if (FORMAT == FMT_Q8) wv *= wscale[row * (p.cols / 32u) + c / 32u];
      for (uint t = 0; t < TOKENS; ++t) acc[r][t] += dot(wv, xv[t]);
    }
  }
  float inv_rms[MAX_TOKENS];
  for (uint t = 0; t < TOKENS; ++t)
    inv_rms[t] = norm_input ? inversesqrt(workgroup_sum(squares[t]) / float(p.cols) + p.eps) : 1.0;
  for (uint r = 0; r < ROWS; ++r) {
    for (uint t = 0; t < TOKENS; ++t) {
      const float total = workgroup_sum(acc[r][t]) * inv_rms[t];
      const uint row = r0 + r;
      if (tid == 0 && row < p.rows && t < nt) {
        const uint o = (t0 + t) * p.y_stride + p.row0 + row;
        const float v = total + ((p.flags & 1u) != 0 ? bias[p.row0 + row] : 0.0);
        y[o] = (p.flags & 2u) != 0 ? y[o] + v : v;
      }
    }
  }
}

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
//
// EPILOGUE != 0 (decode's q, k and v; ROWS = 4, TOKENS = 1, one part) does
// rope.comp's work at the end, so decode needs no rope dispatch, and no
// barrier, between the products and attention. RoPE rotates dims d and
// d + half of a head together, so a workgroup takes rows d, d + 1, d + half
// and d + half + 1 of one head (d even; half = head_dim / 2 must be even):
//   1: q   rotated, written to y (as rope.comp leaves q);
//   2: k   rotated, written to Cache as f16 pairs (d, d + 1) and
//          (d + half, d + half + 1) at the token's slot (position % ring, or
//          the position with ring 0);
//   3: v   rows 4g .. 4g + 3 (nothing to rotate) to Cache as two f16 pairs.
// The position is step[0] + the token (workgroup z).
#ifdef OSSDESK_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ROWS = 1;    // 1..4
layout(constant_id = 2) const uint FORMAT = 2;
layout(constant_id = 3) const uint TOKENS = 1;  // 1..8
layout(constant_id = 4) const uint EPILOGUE = 0;  // 0: y (=|+=) the rows; 1..3: above
const uint MAX_ROWS = 4;
const uint MAX_TOKENS = 8;

layout(std430, binding = 0) readonly buffer W { uint w[]; };
layout(std430, binding = 1) readonly buffer WScale { float wscale[]; };
layout(std430, binding = 2) readonly buffer X { float x[]; };
layout(std430, binding = 3) readonly buffer Bias { float bias[]; };
layout(std430, binding = 4) buffer Y { float y[]; };
layout(std430, binding = 5) readonly buffer Norm { float norm[]; };  // [cols], with `norm_input`
layout(std430, binding = 6) readonly buffer InvFreq { float inv_freq[]; };  // EPILOGUE 1, 2
layout(std430, binding = 7) readonly buffer Step { uint step[]; };          // EPILOGUE 1..3: [0] = position of token 0
layout(std430, binding = 8) writeonly buffer Cache { uint cache[]; };       // EPILOGUE 2, 3: [slots x rows / 2] f16 pairs

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
  uint half_dim;    // EPILOGUE 1, 2: head_dim / 2
  float concentration;
  uint ring;        // EPILOGUE 2, 3: slots in the ring, 0 = one slot per position
} p;

#include "common/reduce.glsl"
#include "common/dense.glsl"
#include "common/rope.glsl"

const bool ROTATES = EPILOGUE == 1 || EPILOGUE == 2;

// Row r of workgroup g's ROWS: consecutive, or a rotating head's (above).
uint row_of(uint g, uint r) {
  if (!ROTATES) return g * ROWS + r;
  const uint quads = p.half_dim / 2u;  // workgroups a head
  const uint head = g / quads;
  return head * 2u * p.half_dim + 2u * (g - head * quads) + (r & 1u) + (r >> 1) * p.half_dim;
}

// Workgroup g's four rows of token t (out: rows row_of(g, 0..3), bias added):
// rotated and stored to y or the cache, by one invocation.
void rope_epilogue(uint g, uint t, float out4[MAX_ROWS]) {
  const uint pos = step[0] + t;
  const uint slot = p.ring > 0u ? pos % p.ring : pos;
  const uint cache_row = slot * (p.rows / 2u);  // words: the kv row's f16 pairs
  if (EPILOGUE == 3) {
    cache[cache_row + 2u * g] = packHalf2x16(vec2(out4[0], out4[1]));
    cache[cache_row + 2u * g + 1u] = packHalf2x16(vec2(out4[2], out4[3]));
    return;
  }
  const uint a = row_of(g, 0), i = a % (2u * p.half_dim);  // dims i, i + 1 and their partners i + half, i + half + 1
  float c0, s0, c1, s1;
  rotation(pos, i, p.concentration, c0, s0);
  rotation(pos, i + 1u, p.concentration, c1, s1);
  const float lo0 = out4[0] * c0 - out4[2] * s0, hi0 = out4[2] * c0 + out4[0] * s0;
  const float lo1 = out4[1] * c1 - out4[3] * s1, hi1 = out4[3] * c1 + out4[1] * s1;
  if (EPILOGUE == 1) {
    const uint o = t * p.y_stride + a;
    y[o] = lo0;
    y[o + 1u] = lo1;
    y[o + p.half_dim] = hi0;
    y[o + p.half_dim + 1u] = hi1;
  } else {
    cache[cache_row + a / 2u] = packHalf2x16(vec2(lo0, lo1));
    cache[cache_row + (a + p.half_dim) / 2u] = packHalf2x16(vec2(hi0, hi1));
  }
}

void main() {
  const uint g = flat_workgroup_id();
  const uint r0 = g * ROWS;
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
      const uint row = min(row_of(g, r), p.rows - 1u);
      vec4 wv = unpack_word(w[row * p.row_stride + k]);
      if (FORMAT == FMT_Q8) wv *= wscale[row * (p.cols / 32u) + c / 32u];
      for (uint t = 0; t < TOKENS; ++t) acc[r][t] += dot(wv, xv[t]);
    }
  }
  float inv_rms[MAX_TOKENS];
  for (uint t = 0; t < TOKENS; ++t)
    inv_rms[t] = norm_input ? inversesqrt(workgroup_sum(squares[t]) / float(p.cols) + p.eps) : 1.0;
  float out4[MAX_ROWS];  // EPILOGUE != 0: invocation 0's rows of token t0, bias added
  for (uint r = 0; r < ROWS; ++r) {
    for (uint t = 0; t < TOKENS; ++t) {
      const float total = workgroup_sum(acc[r][t]) * inv_rms[t];
      const uint row = row_of(g, r);
      if (tid == 0 && row < p.rows && t < nt) {
        const float v = total + ((p.flags & 1u) != 0 ? bias[p.row0 + row] : 0.0);
        if (EPILOGUE != 0) {
          out4[r] = v;
        } else {
          const uint o = (t0 + t) * p.y_stride + p.row0 + row;
          y[o] = (p.flags & 2u) != 0 ? y[o] + v : v;
        }
      }
    }
  }
  if (EPILOGUE != 0 && tid == 0) rope_epilogue(g, t0, out4);
}

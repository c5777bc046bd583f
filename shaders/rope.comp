#version 450
// YaRN rotary embedding and the KV-cache append, in one dispatch: q
// [tokens x q_heads*head_dim] is rotated in place; k [tokens x kv_dim] is
// rotated into this layer's f16 key cache and v copied into the value cache,
// token t (workgroup z, position step[0] + t) at slot position % ring
// (sliding-window layers keep a ring) or slot position (ring = 0). Halves are
// rotated (NeoX style): for i < half,
//   x[i]' = x[i] cos - x[i+half] sin,   x[i+half]' = x[i+half] cos + x[i] sin,
// with angle = float(pos) * inv_freq[i] (inv_freq as the host's cpu::YarnRope
// computes it) and cos/sin scaled by the concentration.
//
// Invocations (spread over workgroups x and y): first one per rotated pair of
// q, then one per cache word of k and v (two f16 values, elements 2w and
// 2w + 1 of a head, each rotated from its own pair: a word may straddle the
// halves when half is odd). k is only read, so the k invocations need no
// ordering between them. One dispatch where a separate append would cost a
// dispatch and a barrier per layer.
//
// cos/sin are evaluated here, not with the built-ins: GLSL's sin/cos are only
// specified to 2^-11 absolute error on [-pi, pi] and positions reach 131072,
// so the angle is reduced modulo pi/2 exactly (Cody-Waite, pi/2 in six 7-bit
// pieces, each k*piece exact since k < 2^17) and a Taylor polynomial on
// [-pi/4, pi/4] finishes it, within a few float ulps of the exact value.
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer K { float k[]; };  // [tokens x kv_dim]
layout(std430, binding = 2) readonly buffer InvFreq { float inv_freq[]; };
layout(std430, binding = 3) readonly buffer Step { uint step[]; };  // [0] = position of token 0
layout(std430, binding = 4) readonly buffer V { float v[]; };  // [tokens x kv_dim]
layout(std430, binding = 5) writeonly buffer KCache { uint kc[]; };  // [slots x kv_dim / 2] f16 pairs
layout(std430, binding = 6) writeonly buffer VCache { uint vc[]; };

layout(push_constant) uniform Params {
  uint q_heads;
  uint kv_heads;
  uint half_dim;
  float concentration;
  uint ring;  // slots in the ring, 0 = one slot per position
} p;

#include "common/grid.glsl"

// cos and sin of a non-negative angle below 2^17 * pi/2.
void cos_sin(float x, out float c, out float s) {
  const float n = floor(x * 0.63661977236758134 + 0.5);  // nearest multiple of pi/2
  precise float r = x - n * 1.5625;
  r = r - n * 8.17871093750000000000e-03;
  r = r - n * 1.17301940917968750000e-04;
  r = r - n * 3.12924385070800781250e-07;
  r = r - n * 9.89530235528945922852e-10;
  r = r - n * 2.55795384873636066914e-12;
  const float r2 = r * r;
  // Taylor to r^9 / r^10: truncation below 2e-9 on |r| <= pi/4.
  const float sr = r * (1.0 + r2 * (-1.0 / 6.0 + r2 * (1.0 / 120.0 + r2 * (-1.0 / 5040.0 + r2 * (1.0 / 362880.0)))));
  const float cr =
      1.0 + r2 * (-0.5 + r2 * (1.0 / 24.0 + r2 * (-1.0 / 720.0 + r2 * (1.0 / 40320.0 + r2 * (-1.0 / 3628800.0)))));
  const uint quadrant = uint(n) & 3u;
  if (quadrant == 0u) {
    c = cr;
    s = sr;
  } else if (quadrant == 1u) {
    c = -sr;
    s = cr;
  } else if (quadrant == 2u) {
    c = -cr;
    s = -sr;
  } else {
    c = sr;
    s = -cr;
  }
}

// cos and sin of pair i's angle at position pos, scaled by the concentration.
void rotation(uint pos, uint i, out float c, out float s) {
  precise const float angle = float(pos) * inv_freq[i];
  cos_sin(angle, c, s);
  c *= p.concentration;
  s *= p.concentration;
}

// Element d of the rotated head whose first value is k[base].
float rotated_key(uint pos, uint base, uint d) {
  const uint half_dim = p.half_dim;
  float c, s;
  if (d < half_dim) {
    rotation(pos, d, c, s);
    return k[base + d] * c - k[base + d + half_dim] * s;
  }
  rotation(pos, d - half_dim, c, s);
  return k[base + d] * c + k[base + d - half_dim] * s;
}

void main() {
  const uint id = flat_workgroup_id() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  const uint half_dim = p.half_dim;
  const uint q_pairs = p.q_heads * half_dim;
  if (id >= q_pairs + p.kv_heads * half_dim) return;
  const uint token = gl_WorkGroupID.z;
  const uint pos = step[0] + token;
  if (id < q_pairs) {
    const uint head = id / half_dim;
    const uint i = id - head * half_dim;
    float c, s;
    rotation(pos, i, c, s);
    const uint base = (token * p.q_heads + head) * 2u * half_dim + i;
    const float x1 = q[base], x2 = q[base + half_dim];
    q[base] = x1 * c - x2 * s;
    q[base + half_dim] = x2 * c + x1 * s;
    return;
  }
  const uint word = id - q_pairs;  // of the token's kv_dim / 2
  const uint head = word / half_dim;
  const uint d = 2u * (word - head * half_dim);
  const uint kv_words = p.kv_heads * half_dim;
  const uint base = (token * p.kv_heads + head) * 2u * half_dim;
  const uint slot = p.ring > 0u ? pos % p.ring : pos;
  kc[slot * kv_words + word] = packHalf2x16(vec2(rotated_key(pos, base, d), rotated_key(pos, base, d + 1u)));
  vc[slot * kv_words + word] = packHalf2x16(vec2(v[base + d], v[base + d + 1u]));
}

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
// dispatch and a barrier per layer. Decode (one token) has none at all:
// matvec.comp's q/k/v products do this work in their epilogue.
//
// cos/sin come from common/rope.glsl (an exact angle reduction, not the
// built-ins, which are only ~2^-11 accurate).
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
#include "common/rope.glsl"

// Element d of the rotated head whose first value is k[base].
float rotated_key(uint pos, uint base, uint d) {
  const uint half_dim = p.half_dim;
  float c, s;
  if (d < half_dim) {
    rotation(pos, d, p.concentration, c, s);
    return k[base + d] * c - k[base + d + half_dim] * s;
  }
  rotation(pos, d - half_dim, p.concentration, c, s);
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
    rotation(pos, i, p.concentration, c, s);
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

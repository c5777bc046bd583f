#version 450
// Appends this step's keys and values to one layer's KV cache as f16 pairs:
// token t (position step[0] + t) goes to slot position % ring (sliding-window
// layers keep a ring) or slot position (ring = 0: full layers). The cache rows
// are kv_dim values = kv_dim / 2 words. One invocation per (word, token).
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Step { uint step[]; };
layout(std430, binding = 1) readonly buffer K { float k[]; };  // [tokens x kv_dim]
layout(std430, binding = 2) readonly buffer V { float v[]; };
layout(std430, binding = 3) writeonly buffer KCache { uint kc[]; };
layout(std430, binding = 4) writeonly buffer VCache { uint vc[]; };

layout(push_constant) uniform Params {
  uint kv_dim;  // even
  uint ring;    // slots in the ring, 0 = one slot per position
  uint tokens;
} p;

void main() {
  const uint i = gl_GlobalInvocationID.x;
  const uint half_dim = p.kv_dim / 2u;
  const uint t = gl_WorkGroupID.z;
  if (i >= half_dim || t >= p.tokens) return;
  const uint pos = step[0] + t;
  const uint slot = p.ring > 0u ? pos % p.ring : pos;
  const uint src = t * p.kv_dim + 2u * i;
  kc[slot * half_dim + i] = packHalf2x16(vec2(k[src], k[src + 1u]));
  vc[slot * half_dim + i] = packHalf2x16(vec2(v[src], v[src + 1u]));
}

#version 450
// Greedy sampling on the device in two passes. PHASE 0: each workgroup finds
// the largest logit of its range of `per_group` values (ties and NaN: the
// lower index wins, NaN never wins) and writes (value, index) to `partial`.
// PHASE 1: one workgroup reduces the partials and writes the chosen id to
// step[1] (read back by the host) and step[4] (the next decode step's token).
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint PHASE = 0;

layout(std430, binding = 0) readonly buffer Logits { float logits[]; };
layout(std430, binding = 1) buffer Partial { uvec2 partial[]; };  // (value bits, index)
layout(std430, binding = 2) buffer Step { uint step[]; };

layout(push_constant) uniform Params {
  uint n;          // logits (PHASE 0) or partials (PHASE 1)
  uint per_group;  // PHASE 0: values per workgroup
  uint offset;     // PHASE 0: first logit (the row of the last token)
} p;

shared float best_v[gl_WorkGroupSize.x];
shared uint best_i[gl_WorkGroupSize.x];

bool better(float v, uint i, float bv, uint bi) { return v > bv || (v == bv && i < bi); }

void main() {
  const uint tid = gl_LocalInvocationID.x;
  float bv = -1.0 / 0.0;
  uint bi = 0xffffffffu;
  if (PHASE == 0u) {
    const uint begin = gl_WorkGroupID.x * p.per_group;
    const uint end = min(begin + p.per_group, p.n);
    for (uint i = begin + tid; i < end; i += gl_WorkGroupSize.x) {
      const float v = logits[p.offset + i];
      if (!isnan(v) && better(v, i, bv, bi)) {
        bv = v;
        bi = i;
      }
    }
  } else {
    for (uint i = tid; i < p.n; i += gl_WorkGroupSize.x) {
      const float v = uintBitsToFloat(partial[i].x);
      const uint idx = partial[i].y;
      if (idx != 0xffffffffu && better(v, idx, bv, bi)) {
        bv = v;
        bi = idx;
      }
    }
  }
  best_v[tid] = bv;
  best_i[tid] = bi;
  memoryBarrierShared();
  barrier();
  for (uint s = gl_WorkGroupSize.x / 2; s > 0; s >>= 1) {
    if (tid < s && best_i[tid + s] != 0xffffffffu &&
        (best_i[tid] == 0xffffffffu || better(best_v[tid + s], best_i[tid + s], best_v[tid], best_i[tid]))) {
      best_v[tid] = best_v[tid + s];
      best_i[tid] = best_i[tid + s];
    }
    memoryBarrierShared();
    barrier();
  }
  if (tid == 0) {
    if (PHASE == 0u) {
      partial[gl_WorkGroupID.x] = uvec2(floatBitsToUint(best_v[0]), best_i[0]);
    } else {
      const uint id = best_i[0] == 0xffffffffu ? 0u : best_i[0];
      step[1] = id;
      step[4] = id;
    }
  }
}

#version 450
// Sampling on the device with the rules of the host reference
// (engine/src/backends/sampling.cpp): logits scaled by 1/temperature, then
// top-k, then top-p over the survivors' softmax, then min-p relative to the
// most likely token, then one draw u in [0, 1) walking the survivors from the
// most likely down. The chosen id goes to step[1] (read by the host) and
// step[4] (the next decode step's token). One workgroup reads the last row of
// logits; nothing is sorted.
//
// Every filter and the draw are a threshold on the scaled logits: with key(s)
// a monotone map of floats to uints and F(tau) the mass (or count) of the
// tokens with key >= tau, each step finds the largest tau with F(tau) >=
// target by fixing the key's 32 bits from the top, one pass over the row per
// bit. top-k: count >= k; top-p: mass >= top_p x the top-k mass; the draw:
// survivors' mass > u x their total, which stops exactly at the token where
// the host's running sum crosses u. Among tokens with an equal logit the
// lowest id is taken.
//
// Parameters travel in the step buffer at p.params (written by the host per
// draw, since the command buffer is recorded once): [0] u, [1] 1/temperature,
// [2] top_k (0 = off), [3] top_p (1 = off), [4] min_p (0 = off), floats as bits.
#ifdef OSSDESK_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Logits { float logits[]; };
layout(std430, binding = 1) buffer Step { uint step[]; };

layout(push_constant) uniform Params {
  uint n;       // vocabulary
  uint offset;  // first logit of the row
  uint params;  // word index of the sampling parameters in Step
} p;

#include "common/reduce.glsl"

shared uint min_id_s[gl_WorkGroupSize.x];

float inv_t;
float top_scaled;  // the largest scaled logit
float min_weight;  // min-p floor on exp(s - top_scaled); 0 = off

uint key_of(float s) {
  const uint b = floatBitsToUint(s);
  return (b & 0x80000000u) != 0u ? ~b : b | 0x80000000u;
}

bool usable(float v) { return !isnan(v) && !isinf(v); }

// Mass (exp(s - top), or 1 per token with `count`) of the usable tokens with
// key >= tau and, with `floor_on`, weight >= min_weight.
float mass_from(uint tau, bool count, bool floor_on) {
  float acc = 0.0;
  for (uint i = gl_LocalInvocationID.x; i < p.n; i += gl_WorkGroupSize.x) {
    const float v = logits[p.offset + i];
    if (!usable(v)) continue;
    const float s = v * inv_t;
    if (key_of(s) < tau) continue;
    const float w = exp(s - top_scaled);
    if (floor_on && w < min_weight) continue;
    acc += count ? 1.0 : w;
  }
  return workgroup_sum(acc);
}

// The largest tau with mass_from(tau) >= target (> target with `strict`), 0
// when none reaches it.
uint threshold(float target, bool count, bool floor_on, bool strict) {
  uint tau = 0u;
  for (int bit = 31; bit >= 0; --bit) {
    const uint candidate = tau | (1u << uint(bit));
    const float m = mass_from(candidate, count, floor_on);
    if (strict ? m > target : m >= target) tau = candidate;
  }
  return tau;
}

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint wg = gl_WorkGroupSize.x;
  const float u = uintBitsToFloat(step[p.params]);
  inv_t = uintBitsToFloat(step[p.params + 1u]);
  const uint top_k = step[p.params + 2u];
  const float top_p = uintBitsToFloat(step[p.params + 3u]);
  const float min_p = uintBitsToFloat(step[p.params + 4u]);

  // The largest scaled logit: a max reduction through the shared id scratch.
  float best = -3.0e38;
  for (uint i = tid; i < p.n; i += wg) {
    const float v = logits[p.offset + i];
    if (usable(v)) best = max(best, v * inv_t);
  }
  min_id_s[tid] = floatBitsToUint(best);
  memoryBarrierShared();
  barrier();
  for (uint s = wg / 2u; s > 0u; s >>= 1) {
    if (tid < s) min_id_s[tid] = floatBitsToUint(max(uintBitsToFloat(min_id_s[tid]), uintBitsToFloat(min_id_s[tid + s])));
    memoryBarrierShared();
    barrier();
  }
  top_scaled = uintBitsToFloat(min_id_s[0]);
  memoryBarrierShared();
  barrier();
  min_weight = min_p > 0.0 ? min_p : 0.0;

  uint tau = 0u;  // survivors: key >= tau
  if (top_k > 0u && float(top_k) < mass_from(0u, true, false)) tau = threshold(float(top_k), true, false, false);
  if (top_p < 1.0) {
    const float kept = mass_from(tau, false, false);
    tau = max(tau, threshold(top_p * kept, false, false, false));
  }
  const float total = mass_from(tau, false, true);
  // The host walks down subtracting weights and stops when its remainder of
  // u x total goes below zero: the first token whose running sum exceeds it.
  const uint chosen_key = max(tau, threshold(u * total, false, true, true));

  // The lowest id whose key is the chosen one.
  uint id = 0xffffffffu;
  for (uint i = tid; i < p.n; i += wg) {
    const float v = logits[p.offset + i];
    if (usable(v) && key_of(v * inv_t) == chosen_key) {
      id = i;
      break;
    }
  }
  min_id_s[tid] = id;
  memoryBarrierShared();
  barrier();
  for (uint s = wg / 2u; s > 0u; s >>= 1) {
    if (tid < s) min_id_s[tid] = min(min_id_s[tid], min_id_s[tid + s]);
    memoryBarrierShared();
    barrier();
  }
  if (tid == 0u) {
    const uint chosen = min_id_s[0] == 0xffffffffu ? 0u : min_id_s[0];
    step[1] = chosen;
    step[4] = chosen;
  }
}

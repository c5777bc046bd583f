#version 450
// Sampling on the device with the rules of the host reference
// (engine/src/backends/sampling.cpp): logits scaled by 1/temperature, then
// top-k, then top-p over the survivors' softmax, then min-p relative to the
// most likely token, then one draw u in [0, 1) walking the survivors from the
// most likely down. The chosen id goes to step_words[1] (read by the host) and
// step_words[4] (the next decode step's token). Nothing is sorted.
//
// Every filter and the draw are a threshold on the scaled logits: with key(s)
// a monotone map of floats to uints and F(tau) the mass (or count) of the
// tokens with key >= tau, each search finds the largest tau with F(tau) >=
// target. top-k: count >= k; top-p: mass >= top_p x the top-k mass; the draw:
// survivors' mass > u x their total, which stops exactly at the token where
// the host's running sum crosses u. Among tokens with an equal logit the
// lowest id is taken.
//
// A draw is a sequence of dispatches (engine/src/backends/vulkan/vk_sampling.h
// lists them), each over `groups` workgroups that split the row into slices:
//   MAX     the largest scaled logit
//   MASS    a phase's mass (or count) at or above its starting threshold,
//           which sets its search's target (top-k, top-p, then the draw)
//   DIGIT   four bits of the phase's threshold, from bit `shift` down: each
//           workgroup sums, for the 15 candidates search | d << shift, the
//           mass at or above it in its slice (8 passes settle 32 bits)
//   PICK    the lowest id of each slice whose key is the drawn one
//   FINISH  one workgroup: the lowest of those ids, to the step buffer
// Each workgroup writes its partial sums; the next dispatch's workgroups all
// settle them first (the same sums in the same order, so the same result in
// every workgroup) into the draw's state, which workgroup 0 also stores. Two
// slots, by the parity of the pass, keep a pass from overwriting what its
// own workgroups still read. This shader first read the whole row 35 times
// in one workgroup, which keeps a draw on one SM (by estimate hundreds of
// microseconds a token on a discrete GPU; twice this version's time even on
// lavapipe's two threads); this is 12 short dispatches for a plain draw (9
// more for each of top-k and top-p).
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

struct DrawState {  // vk_sampling.cpp: kStateWords
  uint tau;        // the filters' threshold so far (top-k, then top-p)
  uint search;     // the threshold being searched: its settled digits
  uint chosen;     // the drawn token's key
  uint searching;  // whether the phase's search runs
  float top;       // the largest scaled logit
  float target;    // the search's target mass (or count)
};

layout(std430, binding = 0) readonly buffer Logits { float logits[]; };
layout(std430, binding = 1) buffer Step { uint step_words[]; };
layout(std430, binding = 2) buffer Draw {
  DrawState state[2];
  uint partial[];  // [2 slots][groups][16]: floats as bits, or ids
};

const uint KIND_MAX = 0u, KIND_MASS = 1u, KIND_DIGIT = 2u, KIND_PICK = 3u, KIND_FINISH = 4u;
const uint PHASE_TOP_K = 0u, PHASE_TOP_P = 1u, PHASE_FINAL = 2u;
const uint DIGITS = 16u;  // four bits a pass
const uint NONE = 0xffffffffu;

layout(push_constant) uniform Params {
  uint n;           // vocabulary
  uint offset;      // first logit of the row
  uint params;      // word index of the sampling parameters in Step
  uint groups;      // workgroups of every pass but FINISH
  uint pass_index;  // its parity picks the slots
  uint kind, phase, shift;                 // this pass
  uint prev_kind, prev_phase, prev_shift;  // the pass before, settled first
} p;

#include "common/reduce.glsl"

shared uint sums_s[DIGITS];
shared uint extreme_s;  // a workgroup max (of keys) or min (of ids)
shared DrawState settled_s;
shared vec4 tree_s[gl_WorkGroupSize.x][4];  // the digit pass's 16 sums per invocation: 8 KB at 128

float u_param() { return uintBitsToFloat(step_words[p.params]); }
float inv_t_param() { return uintBitsToFloat(step_words[p.params + 1u]); }
uint top_k_param() { return step_words[p.params + 2u]; }
float top_p_param() { return uintBitsToFloat(step_words[p.params + 3u]); }
float min_p_param() { return uintBitsToFloat(step_words[p.params + 4u]); }

uint key_of(float s) {
  const uint b = floatBitsToUint(s);
  return (b & 0x80000000u) != 0u ? ~b : b | 0x80000000u;
}
float float_of_key(uint k) { return uintBitsToFloat((k & 0x80000000u) != 0u ? k & 0x7fffffffu : ~k); }

bool usable(float v) { return !isnan(v) && !isinf(v); }

bool phase_on(uint phase) {
  return phase == PHASE_FINAL || (phase == PHASE_TOP_K ? top_k_param() > 0u : top_p_param() < 1.0);
}

uint partial_at(uint slot, uint group, uint i) { return (slot * p.groups + group) * DIGITS + i; }

// Workgroup max of keys or min of ids through one shared word.
uint workgroup_extreme(uint v, bool want_max) {
  if (gl_LocalInvocationID.x == 0u) extreme_s = want_max ? 0u : NONE;
  memoryBarrierShared();
  barrier();
  if (want_max) atomicMax(extreme_s, v);
  else atomicMin(extreme_s, v);
  memoryBarrierShared();
  barrier();
  const uint r = extreme_s;
  barrier();  // read by all before the next call resets it
  return r;
}

// The state after the previous pass: its partials folded, in group order,
// into the state the pass before it left. Every workgroup computes the same.
DrawState settle_previous() {
  const uint tid = gl_LocalInvocationID.x;
  const uint slot = (p.pass_index + 1u) & 1u;  // the previous pass's
  const uint entries = p.prev_kind == KIND_DIGIT ? DIGITS : 1u;
  if (tid < entries) {
    float acc = p.prev_kind == KIND_MAX ? -3.0e38 : 0.0;
    for (uint g = 0u; g < p.groups; ++g) {
      const float v = uintBitsToFloat(partial[partial_at(slot, g, tid)]);
      acc = p.prev_kind == KIND_MAX ? max(acc, v) : acc + v;
    }
    sums_s[tid] = floatBitsToUint(acc);
  }
  memoryBarrierShared();
  barrier();
  if (tid == 0u) {
    DrawState st = state[p.pass_index & 1u];  // the state two passes back
    const float first = uintBitsToFloat(sums_s[0]);
    if (p.prev_kind == KIND_MAX) {
      st = DrawState(0u, 0u, 0u, 0u, first, 0.0);
    } else if (p.prev_kind == KIND_MASS) {
      const uint phase = p.prev_phase;
      st.search = 0u;
      st.searching = phase_on(phase) && (phase != PHASE_TOP_K || float(top_k_param()) < first) ? 1u : 0u;
      st.target = phase == PHASE_TOP_K ? float(top_k_param()) : (phase == PHASE_TOP_P ? top_p_param() : u_param()) * first;
    } else if (p.prev_kind == KIND_DIGIT && st.searching != 0u) {
      // The largest digit whose candidate reaches the target (> for the
      // draw); the masses grow as the digit falls, and digit 0 reached it
      // in the pass before.
      const bool strict = p.prev_phase == PHASE_FINAL;
      uint digit = 0u;
      for (uint d = DIGITS - 1u; d >= 1u && digit == 0u; --d) {
        const float m = uintBitsToFloat(sums_s[d]);
        if (strict ? m > st.target : m >= st.target) digit = d;
      }
      st.search |= digit << p.prev_shift;
      if (p.prev_shift == 0u) {
        if (p.prev_phase == PHASE_FINAL) st.chosen = max(st.tau, st.search);
        else st.tau = max(st.tau, st.search);
      }
    }
    settled_s = st;
    if (gl_WorkGroupID.x == 0u) state[slot] = st;
  }
  memoryBarrierShared();
  barrier();
  return settled_s;
}

// What a token adds to a phase's mass at or above a threshold it passes: 1
// for top-k's count, else its weight e^(s - top), none below min-p's floor
// in the draw. Negative: the token does not count (not finite, or floored).
float weigh(float v, uint phase, float inv_t, float top, out uint key) {
  key = 0u;
  if (!usable(v)) return -1.0;
  const float s = v * inv_t;
  key = key_of(s);
  const float w = exp(s - top);
  if (phase == PHASE_FINAL && w < min_p_param()) return -1.0;
  return phase == PHASE_TOP_K ? 1.0 : w;
}

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint wg = gl_WorkGroupSize.x;
  const uint group = gl_WorkGroupID.x;

  if (p.kind == KIND_FINISH) {
    uint id = NONE;
    for (uint g = tid; g < p.groups; g += wg) id = min(id, partial[partial_at((p.pass_index + 1u) & 1u, g, 0u)]);
    id = workgroup_extreme(id, false);
    if (tid == 0u) {
      const uint chosen = id == NONE ? 0u : id;
      step_words[1] = chosen;
      step_words[4] = chosen;
    }
    return;
  }

  const DrawState st = p.kind == KIND_MAX ? DrawState(0u, 0u, 0u, 0u, 0.0, 0.0) : settle_previous();
  const float inv_t = inv_t_param();
  const uint per_group = (p.n + p.groups - 1u) / p.groups;
  const uint begin = group * per_group;
  const uint end = min(p.n, begin + per_group);
  const uint out_slot = p.pass_index & 1u;

  if (p.kind == KIND_MAX) {
    float best = -3.0e38;
    for (uint i = begin + tid; i < end; i += wg) {
      const float v = logits[p.offset + i];
      if (usable(v)) best = max(best, v * inv_t);
    }
    best = float_of_key(workgroup_extreme(key_of(best), true));
    if (tid == 0u) partial[partial_at(out_slot, group, 0u)] = floatBitsToUint(best);
  } else if (p.kind == KIND_MASS) {
    const uint tau = p.phase == PHASE_TOP_K ? 0u : st.tau;
    float mass = 0.0;
    if (phase_on(p.phase)) {
      for (uint i = begin + tid; i < end; i += wg) {
        uint key;
        const float add = weigh(logits[p.offset + i], p.phase, inv_t, st.top, key);
        if (add >= 0.0 && key >= tau) mass += add;
      }
    }
    mass = workgroup_sum(mass);
    if (tid == 0u) partial[partial_at(out_slot, group, 0u)] = floatBitsToUint(mass);
  } else if (p.kind == KIND_DIGIT) {
    if (!phase_on(p.phase) || st.searching == 0u) return;  // uniform: settled_s
    // mass[d] = the mass at or above search | d << shift: a token with digit
    // d counts for candidates 0..d, one above every candidate for all.
    const uint settled_bits = p.shift + 4u == 32u ? 0u : ~0u << (p.shift + 4u);
    vec4 mass[4] = vec4[4](vec4(0.0), vec4(0.0), vec4(0.0), vec4(0.0));
    for (uint i = begin + tid; i < end; i += wg) {
      uint key;
      const float add = weigh(logits[p.offset + i], p.phase, inv_t, st.top, key);
      if (add < 0.0 || key < st.search) continue;  // below every candidate
      const float digit = (key & settled_bits) > st.search ? 15.0 : float((key >> p.shift) & 15u);
      mass[0] += add * step(vec4(0.0, 1.0, 2.0, 3.0), vec4(digit));
      mass[1] += add * step(vec4(4.0, 5.0, 6.0, 7.0), vec4(digit));
      mass[2] += add * step(vec4(8.0, 9.0, 10.0, 11.0), vec4(digit));
      mass[3] += add * step(vec4(12.0, 13.0, 14.0, 15.0), vec4(digit));
    }
    // One shared-memory tree for all 16 sums: a barrier per level, not per sum.
    for (uint k = 0u; k < 4u; ++k) tree_s[tid][k] = mass[k];
    memoryBarrierShared();
    barrier();
    for (uint s = wg / 2u; s > 0u; s >>= 1) {
      if (tid < s)
        for (uint k = 0u; k < 4u; ++k) tree_s[tid][k] += tree_s[tid + s][k];
      memoryBarrierShared();
      barrier();
    }
    if (tid < DIGITS) partial[partial_at(out_slot, group, tid)] = floatBitsToUint(tree_s[0][tid / 4u][tid % 4u]);
  } else if (p.kind == KIND_PICK) {
    uint id = NONE;
    for (uint i = begin + tid; i < end; i += wg) {
      const float v = logits[p.offset + i];
      if (usable(v) && key_of(v * inv_t) == st.chosen) {
        id = i;
        break;
      }
    }
    id = workgroup_extreme(id, false);
    if (tid == 0u) partial[partial_at(out_slot, group, 0u)] = id;
  }
}

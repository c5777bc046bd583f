#version 450
// Causal attention of this step's query tokens over one layer's f16 KV cache,
// with the learned per-head sink logit as an extra softmax column that adds no
// value. Token t sits at position step[0] + t and sees keys first..pos, first =
// pos - window + 1 for sliding layers (window > 0), else 0. Key j lives in
// slot j % ring (ring > 0) or j.
//
// Grouped-query: the G = heads / kv_heads query heads of a kv head read the
// same keys and values. A workgroup serves GROUP of them (GROUP divides G, at
// most MAX_GROUP; the host picks it, see attention_head_group in
// vk_push_constants.h), so each key and value row it reads serves GROUP heads.
// One workgroup per query head read them G times, which at long contexts
// multiplied the cache's memory traffic by G (8 for gpt-oss). Workgroups:
// x = block of GROUP heads (heads first_head .. first_head + GROUP - 1, kv head
// first_head / G), y = split, z = token.
//
// Online softmax over chunks of workgroup-size keys: each invocation scores
// one key of the chunk against the GROUP queries, each head's running max and
// denominator are rescaled once per chunk, and the weighted values are
// accumulated by invocations that own one pair of output dimensions each
// (several key lanes when head_dim / 2 < workgroup size), for all GROUP heads.
// Specialization: 0 = workgroup size (power of two), 1 = head_dim (even, at
// most 4 x workgroup size), 2 = GROUP.
//
// Split mode (decode, flash-decoding style): with split = 1, the token's keys
// are cut into `splits` (at most MAX_SPLITS) runs of whole chunks, as few
// chunks a run as fill the splits, and workgroup y takes run y (the runs past
// the keys are empty). It writes each head's partial softmax state (running
// max, denominator, unnormalized values) to Partial at
// ((t*heads + head)*splits + y) * (head_dim + 2), then counts itself in
// Arrivals[t * head blocks + x]; the last of the splits to arrive folds them
// and the sink into Out and sets the count back to 0 for the next dispatch
// (so the fold needs no dispatch, and no barrier, of its own). Which workgroup
// is last varies, but the fold reads the splits in order, so the result does
// not. A head's keys spread over many workgroups instead of one. The runs
// follow the keys in view at this step, not the cache's capacity, so a short
// conversation in a long context still spreads over the workgroups.
// Without it (split 0, splits 1) the workgroup sees all the keys and writes Out
// itself; Partial and Arrivals are not touched.
#ifdef OSSDESK_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HEAD_DIM = 64;
layout(constant_id = 2) const uint GROUP = 1;  // 1..MAX_GROUP

layout(std430, binding = 0) readonly buffer Step { uint step[]; };
layout(std430, binding = 1) readonly buffer Q { float q[]; };         // [tokens x heads*head_dim]
layout(std430, binding = 2) readonly buffer Keys { uint keys[]; };    // f16 pairs [slots x kv_dim/2]
layout(std430, binding = 3) readonly buffer Values { uint values[]; };
layout(std430, binding = 4) readonly buffer Sinks { float sinks[]; };  // [heads]
layout(std430, binding = 5) writeonly buffer Out { float out_[]; };   // [tokens x heads*head_dim]
// Written and read by different workgroups of one dispatch: `coherent` keeps
// those accesses past the SM-local caches.
layout(std430, binding = 6) coherent buffer Partial { float partial[]; };  // [tokens x heads x splits x (head_dim + 2)]
layout(std430, binding = 7) coherent buffer Arrivals { uint arrivals[]; };  // [tokens x head blocks], zero between dispatches

#include "common/arrival.glsl"

layout(push_constant) uniform Params {
  uint heads;
  uint kv_heads;
  uint window;  // 0: full causal attention
  uint ring;    // 0: slot = position
  float scale;
  uint split;   // 0: one workgroup sees all keys; 1: split mode (below)
  uint splits;  // workgroups along y
} p;

const uint MAX_GROUP = 8;    // kAttentionMaxGroup in vk_push_constants.h
const uint MAX_SPLITS = 64;  // kAttentionMaxSplits in vk_push_constants.h
const uint MAX_PAIRS_PER_INVOCATION = 2;
const uint HALF = HEAD_DIM / 2;
const uint WG = gl_WorkGroupSize.x;
const float NO_SCORE = -3.0e38;

shared vec2 q_s[GROUP * HALF];
shared float p_s[GROUP * WG];    // the chunk's softmax weights, [head][key]
shared float fold_s[GROUP * WG];  // reductions over the workgroup, [head][...]
shared vec2 lanes_s[WG];          // the key lanes' value sums of one head
shared float split_weight_s[MAX_GROUP * MAX_SPLITS];  // the fold: exp(m_s - M) per head and split
shared float fold_sum_s[MAX_GROUP];                   // the fold's denominators

// The GROUP values each invocation holds in head_vals, reduced per head over
// the workgroup (max or sum); every invocation gets the results back in
// head_vals. Called by all invocations in uniform control flow.
float head_vals[MAX_GROUP];

#ifdef OSSDESK_SUBGROUP
void reduce_heads(bool take_max) {
  for (uint g = 0; g < GROUP; ++g) {
    const float r = take_max ? subgroupMax(head_vals[g]) : subgroupAdd(head_vals[g]);
    if (subgroupElect()) fold_s[g * WG + gl_SubgroupID] = r;
  }
  memoryBarrierShared();
  barrier();
  for (uint g = 0; g < GROUP; ++g) {
    float r = fold_s[g * WG];
    for (uint i = 1; i < gl_NumSubgroups; ++i) r = take_max ? max(r, fold_s[g * WG + i]) : r + fold_s[g * WG + i];
    head_vals[g] = r;
  }
  memoryBarrierShared();
  barrier();  // fold_s is reused by the next call
}
#else
void reduce_heads(bool take_max) {
  const uint tid = gl_LocalInvocationID.x;
  for (uint g = 0; g < GROUP; ++g) fold_s[g * WG + tid] = head_vals[g];
  memoryBarrierShared();
  barrier();
  for (uint s = WG / 2; s > 0; s >>= 1) {
    if (tid < s)
      for (uint g = 0; g < GROUP; ++g) {
        const float a = fold_s[g * WG + tid], b = fold_s[g * WG + tid + s];
        fold_s[g * WG + tid] = take_max ? max(a, b) : a + b;
      }
    memoryBarrierShared();
    barrier();
  }
  for (uint g = 0; g < GROUP; ++g) head_vals[g] = fold_s[g * WG];
  memoryBarrierShared();
  barrier();  // fold_s is reused by the next call
}
#endif

const uint STRIDE = HEAD_DIM + 2u;  // floats of one (token, head, split) partial state

// Output pair c (dims 2c, 2c + 1) of a head: its partial values at Partial
// [partial_values..] in split mode, else the normalized output at Out[out_at..].
void write_pair(bool split, uint partial_values, uint out_at, uint c, vec2 v) {
  if (split) {
    partial[partial_values + 2u * c] = v.x;
    partial[partial_values + 2u * c + 1u] = v.y;
  } else {
    out_[out_at + 2u * c] = v.x;
    out_[out_at + 2u * c + 1u] = v.y;
  }
}

// With M = max(sink, m_s): out = sum_s acc_s e^(m_s - M) / (e^(sink - M) +
// sum_s l_s e^(m_s - M)), for the group's heads of token t, splits in order.
void fold_splits(uint first_head, uint t) {
  const uint tid = gl_LocalInvocationID.x;
  if (tid < GROUP) {
    const uint head = first_head + tid;
    const uint base = (t * p.heads + head) * p.splits * STRIDE;
    const float sink = sinks[head];
    float M = sink;
    for (uint s = 0; s < p.splits; ++s) M = max(M, partial[base + s * STRIDE]);
    float L = exp(sink - M);
    for (uint s = 0; s < p.splits; ++s) {
      const float w = exp(partial[base + s * STRIDE] - M);
      split_weight_s[tid * MAX_SPLITS + s] = w;
      L += partial[base + s * STRIDE + 1u] * w;
    }
    fold_sum_s[tid] = L;
  }
  memoryBarrierShared();
  barrier();
  for (uint e = tid; e < GROUP * HEAD_DIM; e += WG) {
    const uint g = e / HEAD_DIM, d = e - g * HEAD_DIM;
    const uint base = (t * p.heads + first_head + g) * p.splits * STRIDE;
    float v = 0.0;
    for (uint s = 0; s < p.splits; ++s) v += partial[base + s * STRIDE + 2u + d] * split_weight_s[g * MAX_SPLITS + s];
    out_[(t * p.heads + first_head + g) * HEAD_DIM + d] = v / fold_sum_s[g];
  }
}

void main() {
  const uint first_head = gl_WorkGroupID.x * GROUP;
  const uint t = gl_WorkGroupID.z;
  const uint tid = gl_LocalInvocationID.x;
  const uint kvh = first_head / (p.heads / p.kv_heads);
  const uint row_words = p.kv_heads * HALF;
  const uint kv_off = kvh * HALF;
  const uint q_base = (t * p.heads + first_head) * HEAD_DIM;  // the group's queries are consecutive

  for (uint i = tid; i < GROUP * HALF; i += WG) q_s[i] = vec2(q[q_base + 2u * i], q[q_base + 2u * i + 1u]);
  memoryBarrierShared();
  barrier();

  const uint pos = step[0] + t;
  const bool split = p.split != 0u;
  uint end = pos + 1u;
  uint first = (p.window > 0u && end > p.window) ? end - p.window : 0u;
  if (split) {
    const uint run = WG * max(1u, (end - first + WG * p.splits - 1u) / (WG * p.splits));
    first = min(end, first + gl_WorkGroupID.y * run);
    end = min(end, first + run);
  }

  // Value accumulation layout: `lanes` groups of `span` invocations; invocation
  // (lane, c0) owns dimension pairs c0, c0 + span, ... and keys lane,
  // lane + lanes, ... of a chunk.
  const uint span = min(HALF, WG);
  const uint lanes = WG / span;
  const uint lane = tid / span;
  const uint c0 = tid - lane * span;

  vec2 acc[MAX_GROUP][MAX_PAIRS_PER_INVOCATION];
  float m[MAX_GROUP], l[MAX_GROUP], alpha[MAX_GROUP];
  for (uint g = 0; g < GROUP; ++g) {
    for (uint i = 0; i < MAX_PAIRS_PER_INVOCATION; ++i) acc[g][i] = vec2(0.0);
    // The sink starts the softmax: running max = sink, denominator = exp(0)
    // (in split mode fold_splits adds it).
    m[g] = split ? NO_SCORE : sinks[first_head + g];
    l[g] = split ? 0.0 : 1.0;
  }

  for (uint chunk = first; chunk < end; chunk += WG) {
    const uint j = chunk + tid;
    float s[MAX_GROUP];
    for (uint g = 0; g < GROUP; ++g) s[g] = 0.0;
    if (j < end) {
      const uint slot = p.ring > 0u ? j % p.ring : j;
      const uint row = slot * row_words + kv_off;
      for (uint d = 0; d < HALF; ++d) {
        const vec2 k2 = unpackHalf2x16(keys[row + d]);
        for (uint g = 0; g < GROUP; ++g) s[g] += dot(q_s[g * HALF + d], k2);
      }
    }
    for (uint g = 0; g < GROUP; ++g) head_vals[g] = j < end ? s[g] * p.scale : NO_SCORE;
    reduce_heads(true);
    for (uint g = 0; g < GROUP; ++g) {
      const float m_new = max(m[g], head_vals[g]);
      alpha[g] = exp(m[g] - m_new);
      const float pj = j < end ? exp(s[g] * p.scale - m_new) : 0.0;
      p_s[g * WG + tid] = pj;
      head_vals[g] = pj;
      m[g] = m_new;
    }
    reduce_heads(false);  // its barriers also publish p_s
    for (uint g = 0; g < GROUP; ++g) l[g] = l[g] * alpha[g] + head_vals[g];

    const uint n = min(WG, end - chunk);
    if (lane < lanes) {
      for (uint g = 0; g < GROUP; ++g)
        for (uint i = 0; i < MAX_PAIRS_PER_INVOCATION; ++i) acc[g][i] *= alpha[g];
      for (uint jj = lane; jj < n; jj += lanes) {
        const uint key = chunk + jj;
        const uint slot = p.ring > 0u ? key % p.ring : key;
        const uint row = slot * row_words + kv_off;
        for (uint i = 0; i < MAX_PAIRS_PER_INVOCATION; ++i) {
          const uint c = c0 + i * span;
          if (c < HALF) {
            const vec2 v = unpackHalf2x16(values[row + c]);
            for (uint g = 0; g < GROUP; ++g) acc[g][i] += p_s[g * WG + jj] * v;
          }
        }
      }
    }
    memoryBarrierShared();
    barrier();  // p_s is rewritten by the next chunk
  }

  for (uint g = 0; g < GROUP; ++g) {
    const uint head = first_head + g;
    const float inv = split ? 1.0 : 1.0 / l[g];
    const uint at = ((t * p.heads + head) * p.splits + gl_WorkGroupID.y) * STRIDE;
    if (split && tid == 0) {
      partial[at] = m[g];
      partial[at + 1u] = l[g];
    }
    if (lanes == 1) {
      // Invocations past span (head_dim / 2 does not divide the workgroup) own nothing.
      for (uint i = 0; i < MAX_PAIRS_PER_INVOCATION && tid < span; ++i) {
        const uint c = c0 + i * span;
        if (c < HALF) write_pair(split, at + 2u, (t * p.heads + head) * HEAD_DIM, c, acc[g][i] * inv);
      }
    } else {  // span == HALF: one pair per invocation, add the key lanes up
      lanes_s[tid] = lane < lanes ? acc[g][0] : vec2(0.0);
      memoryBarrierShared();
      barrier();
      if (tid < HALF) {
        vec2 total = vec2(0.0);
        for (uint ln = 0; ln < lanes; ++ln) total += lanes_s[tid + ln * HALF];
        write_pair(split, at + 2u, (t * p.heads + head) * HEAD_DIM, tid, total * inv);
      }
      memoryBarrierShared();
      barrier();  // lanes_s is rewritten for the next head
    }
  }
  if (split && last_to_arrive(t * gl_NumWorkGroups.x + gl_WorkGroupID.x, p.splits)) fold_splits(first_head, t);
}

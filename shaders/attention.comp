#version 450
// Causal attention of this step's query tokens over one layer's f16 KV cache,
// with the learned per-head sink logit as an extra softmax column that adds no
// value. One workgroup per (query head, token): token t sits at position
// step[0] + t and sees keys first..pos, first = pos - window + 1 for sliding
// layers (window > 0), else 0. Key j lives in slot j % ring (ring > 0) or j.
// Grouped-query: head h reads kv head h / (heads / kv_heads).
//
// Online softmax over chunks of workgroup-size keys: each invocation scores one
// key of the chunk, the running max and denominator are rescaled once per
// chunk, and the weighted values are accumulated by invocations that own one
// output dimension each (several key lanes when head_dim < workgroup size).
// Specialization: 0 = workgroup size (power of two), 1 = head_dim (even, at
// most 4 x workgroup size).
//
// Split mode (decode, flash-decoding style): with split_keys > 0, workgroup y
// takes only keys first + y*split_keys .. +split_keys and writes its partial
// softmax state (running max, denominator, unnormalized values) to Out at
// ((t*heads + head)*splits + y) * (head_dim + 2); attention_combine.comp folds
// the splits and the sink together. One head's keys then spread over many
// workgroups instead of one.
#ifdef OSSDESK_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HEAD_DIM = 64;

layout(std430, binding = 0) readonly buffer Step { uint step[]; };
layout(std430, binding = 1) readonly buffer Q { float q[]; };         // [tokens x heads*head_dim]
layout(std430, binding = 2) readonly buffer Keys { uint keys[]; };    // f16 pairs [slots x kv_dim/2]
layout(std430, binding = 3) readonly buffer Values { uint values[]; };
layout(std430, binding = 4) readonly buffer Sinks { float sinks[]; };  // [heads]
layout(std430, binding = 5) writeonly buffer Out { float out_[]; };   // [tokens x heads*head_dim]

layout(push_constant) uniform Params {
  uint heads;
  uint kv_heads;
  uint window;  // 0: full causal attention
  uint ring;    // 0: slot = position
  float scale;
  uint split_keys;  // 0: one workgroup per (head, token); else keys per split (see below)
  uint splits;
} p;

#include "common/reduce.glsl"

const uint MAX_DIMS_PER_INVOCATION = 4;
const uint HALF = HEAD_DIM / 2;

shared vec2 q_s[HALF];
shared float p_s[gl_WorkGroupSize.x];
shared float max_s[gl_WorkGroupSize.x];

float workgroup_max(float v) {
#ifdef OSSDESK_SUBGROUP
  v = subgroupMax(v);
  if (subgroupElect()) max_s[gl_SubgroupID] = v;
  memoryBarrierShared();
  barrier();
  float m = max_s[0];
  for (uint i = 1; i < gl_NumSubgroups; ++i) m = max(m, max_s[i]);
  memoryBarrierShared();
  barrier();
  return m;
#else
  const uint tid = gl_LocalInvocationID.x;
  max_s[tid] = v;
  memoryBarrierShared();
  barrier();
  for (uint s = gl_WorkGroupSize.x / 2; s > 0; s >>= 1) {
    if (tid < s) max_s[tid] = max(max_s[tid], max_s[tid + s]);
    memoryBarrierShared();
    barrier();
  }
  const float m = max_s[0];
  memoryBarrierShared();
  barrier();
  return m;
#endif
}

void main() {
  const uint head = gl_WorkGroupID.x;
  const uint t = gl_WorkGroupID.z;
  const uint tid = gl_LocalInvocationID.x;
  const uint wg = gl_WorkGroupSize.x;
  const uint kvh = head / (p.heads / p.kv_heads);
  const uint row_words = p.kv_heads * HALF;
  const uint kv_off = kvh * HALF;
  const uint q_base = (t * p.heads + head) * HEAD_DIM;

  for (uint d = tid; d < HALF; d += wg) q_s[d] = vec2(q[q_base + 2u * d], q[q_base + 2u * d + 1u]);
  memoryBarrierShared();
  barrier();

  const uint pos = step[0] + t;
  const bool split = p.split_keys > 0u;
  uint end = pos + 1u;
  uint first = (p.window > 0u && end > p.window) ? end - p.window : 0u;
  if (split) {
    first = min(end, first + gl_WorkGroupID.y * p.split_keys);
    end = min(end, first + p.split_keys);
  }

  // Value accumulation layout: `lanes` groups of `span` invocations; invocation
  // (lane, d0) owns dims d0, d0 + span, ... and keys lane, lane + lanes, ... of a chunk.
  const uint span = min(HEAD_DIM, wg);
  const uint lanes = wg / span;
  const uint lane = tid / span;
  const uint d0 = tid - lane * span;

  float acc[MAX_DIMS_PER_INVOCATION];
  for (uint i = 0; i < MAX_DIMS_PER_INVOCATION; ++i) acc[i] = 0.0;
  // The sink starts the softmax: running max = sink, denominator = exp(0)
  // (in split mode the combine step adds it).
  float m = split ? -3.0e38 : sinks[head];
  float l = split ? 0.0 : 1.0;

  for (uint chunk = first; chunk < end; chunk += wg) {
    const uint j = chunk + tid;
    float s = -3.0e38;
    if (j < end) {
      const uint slot = p.ring > 0u ? j % p.ring : j;
      const uint row = slot * row_words + kv_off;
      float dot_ = 0.0;
      for (uint d = 0; d < HALF; ++d) dot_ += dot(q_s[d], unpackHalf2x16(keys[row + d]));
      s = dot_ * p.scale;
    }
    const float m_new = max(m, workgroup_max(s));
    const float alpha = exp(m - m_new);
    const float pj = j < end ? exp(s - m_new) : 0.0;
    p_s[tid] = pj;
    l = l * alpha + workgroup_sum(pj);  // its barriers also publish p_s
    m = m_new;

    const uint n = min(wg, end - chunk);
    if (lane < lanes) {
      for (uint i = 0; i < MAX_DIMS_PER_INVOCATION; ++i) acc[i] *= alpha;
      for (uint jj = lane; jj < n; jj += lanes) {
        const float w = p_s[jj];
        const uint key = chunk + jj;
        const uint slot = p.ring > 0u ? key % p.ring : key;
        const uint row = slot * row_words + kv_off;
        for (uint i = 0; i < MAX_DIMS_PER_INVOCATION; ++i) {
          const uint d = d0 + i * span;
          if (d < HEAD_DIM) {
            const vec2 pair = unpackHalf2x16(values[row + d / 2u]);
            acc[i] += w * ((d & 1u) == 0u ? pair.x : pair.y);
          }
        }
      }
    }
    memoryBarrierShared();
    barrier();  // p_s is rewritten by the next chunk
  }

  const float inv = split ? 1.0 : 1.0 / l;
  const uint partial = ((t * p.heads + head) * p.splits + gl_WorkGroupID.y) * (HEAD_DIM + 2u);
  const uint dst = split ? partial + 2u : q_base;
  if (split && tid == 0) {
    out_[partial] = m;
    out_[partial + 1u] = l;
  }
  if (lanes == 1) {
    // Invocations past lanes * span (head_dim does not divide the workgroup) own nothing.
    for (uint i = 0; i < MAX_DIMS_PER_INVOCATION && lane == 0; ++i) {
      const uint d = d0 + i * span;
      if (d < HEAD_DIM) out_[dst + d] = acc[i] * inv;
    }
  } else {  // span == HEAD_DIM: one dim per invocation, add the lanes up
    p_s[tid] = lane < lanes ? acc[0] : 0.0;
    memoryBarrierShared();
    barrier();
    if (tid < HEAD_DIM) {
      float total = 0.0;
      for (uint ln = 0; ln < lanes; ++ln) total += p_s[tid + ln * HEAD_DIM];
      out_[dst + tid] = total * inv;
    }
  }
}

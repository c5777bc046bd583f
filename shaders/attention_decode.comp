#version 450
// Attention for one query token, one workgroup per query head, with the
// learned per-head sink logit as an extra softmax column that contributes no
// value. Grouped-query: head h reads kv head h / (heads / kv_heads). Keys and
// values are float32 rows [position x kv_heads*head_dim] (full layout, row p
// holds position p). The token at `position` sees keys first..position, where
// first = max(0, position - window + 1) for window > 0, else 0. Scores are
// scaled by `scale` (1/sqrt(head_dim)).
//
// Online softmax over chunks of workgroup-size keys: each invocation scores one
// key of the chunk, the running max/denominator are rescaled once per chunk,
// and the weighted values are accumulated by invocations that own one output
// dimension each (several key lanes when head_dim < workgroup size), added up
// at the end. Specialization: 0 = workgroup size (power of two),
// 1 = head_dim (at most 4 x workgroup size).
#ifdef OSSDESK_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HEAD_DIM = 64;

layout(std430, binding = 0) readonly buffer Q { float q[]; };        // [heads * head_dim]
layout(std430, binding = 1) readonly buffer Keys { float keys[]; };  // [positions * kv_heads * head_dim]
layout(std430, binding = 2) readonly buffer Values { float values[]; };
layout(std430, binding = 3) readonly buffer Sinks { float sinks[]; };  // [heads]
layout(std430, binding = 4) writeonly buffer Out { float out_[]; };   // [heads * head_dim]

layout(push_constant) uniform Params {
  uint heads;
  uint kv_heads;
  uint position;  // of the query; keys 0..position are valid
  uint window;    // 0: full causal attention
  float scale;
} p;

#include "common/reduce.glsl"

const uint MAX_DIMS_PER_INVOCATION = 4;

shared float q_s[HEAD_DIM];
shared float p_s[gl_WorkGroupSize.x];
shared float max_s[gl_WorkGroupSize.x];

float workgroup_max(float v) {
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
}

void main() {
  const uint head = gl_WorkGroupID.x;
  if (head >= p.heads) return;  // uniform across the workgroup
  const uint tid = gl_LocalInvocationID.x;
  const uint wg = gl_WorkGroupSize.x;
  const uint kvh = head / (p.heads / p.kv_heads);
  const uint kv_dim = p.kv_heads * HEAD_DIM;
  const uint kv_off = kvh * HEAD_DIM;

  for (uint d = tid; d < HEAD_DIM; d += wg) q_s[d] = q[head * HEAD_DIM + d];
  memoryBarrierShared();
  barrier();

  const uint end = p.position + 1;
  const uint first = (p.window > 0 && end > p.window) ? end - p.window : 0;

  // Value accumulation layout: `lanes` groups of `span` invocations; invocation
  // (lane, d0) owns dims d0, d0 + span, ... and keys lane, lane + lanes, ... of a chunk.
  const uint span = min(HEAD_DIM, wg);
  const uint lanes = wg / span;
  const uint lane = tid / span;
  const uint d0 = tid - lane * span;

  float acc[MAX_DIMS_PER_INVOCATION];
  for (uint i = 0; i < MAX_DIMS_PER_INVOCATION; ++i) acc[i] = 0.0;
  // The sink starts the softmax: running max = sink, denominator = exp(0).
  float m = sinks[head];
  float l = 1.0;

  for (uint chunk = first; chunk < end; chunk += wg) {
    const uint j = chunk + tid;
    float s = -3.0e38;
    if (j < end) {
      const uint row = j * kv_dim + kv_off;
      float dot_ = 0.0;
      for (uint d = 0; d < HEAD_DIM; ++d) dot_ += q_s[d] * keys[row + d];
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
        const uint row = (chunk + jj) * kv_dim + kv_off;
        for (uint i = 0; i < MAX_DIMS_PER_INVOCATION; ++i) {
          const uint d = d0 + i * span;
          if (d < HEAD_DIM) acc[i] += w * values[row + d];
        }
      }
    }
    memoryBarrierShared();
    barrier();  // p_s is rewritten by the next chunk
  }

  const float inv = 1.0 / l;
  if (lanes == 1) {
    // Invocations past lanes * span (head_dim does not divide the workgroup) own nothing.
    for (uint i = 0; i < MAX_DIMS_PER_INVOCATION && lane == 0; ++i) {
      const uint d = d0 + i * span;
      if (d < HEAD_DIM) out_[head * HEAD_DIM + d] = acc[i] * inv;
    }
  } else {  // span == HEAD_DIM: one dim per invocation, add the lanes up
    p_s[tid] = lane < lanes ? acc[0] : 0.0;
    memoryBarrierShared();
    barrier();
    if (tid < HEAD_DIM) {
      float total = 0.0;
      for (uint ln = 0; ln < lanes; ++ln) total += p_s[tid + ln * HEAD_DIM];
      out_[head * HEAD_DIM + tid] = total * inv;
    }
  }
}

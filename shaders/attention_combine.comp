#version 450
// Folds the partial softmax states of attention.comp's split mode and the
// head's sink logit into the attention output: with M = max(sink, m_s),
//   out = sum_s acc_s exp(m_s - M) / (exp(sink - M) + sum_s l_s exp(m_s - M)).
// One workgroup per (head, token: z); invocations own output dimensions.
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HEAD_DIM = 64;

layout(std430, binding = 0) readonly buffer Partial { float partial[]; };  // [tokens x heads x splits x (head_dim + 2)]
layout(std430, binding = 1) readonly buffer Sinks { float sinks[]; };
layout(std430, binding = 2) writeonly buffer Out { float out_[]; };        // [tokens x heads x head_dim]

layout(push_constant) uniform Params {
  uint heads;
  uint splits;
} p;

void main() {
  const uint head = gl_WorkGroupID.x;
  const uint t = gl_WorkGroupID.z;
  const uint base = (t * p.heads + head) * p.splits * (HEAD_DIM + 2u);
  const float sink = sinks[head];
  float m = sink;
  for (uint s = 0; s < p.splits; ++s) m = max(m, partial[base + s * (HEAD_DIM + 2u)]);
  float l = exp(sink - m);
  for (uint s = 0; s < p.splits; ++s) {
    const uint b = base + s * (HEAD_DIM + 2u);
    l += partial[b + 1u] * exp(partial[b] - m);
  }
  for (uint d = gl_LocalInvocationID.x; d < HEAD_DIM; d += gl_WorkGroupSize.x) {
    float v = 0.0;
    for (uint s = 0; s < p.splits; ++s) {
      const uint b = base + s * (HEAD_DIM + 2u);
      v += partial[b + 2u + d] * exp(partial[b] - m);
    }
    out_[(t * p.heads + head) * HEAD_DIM + d] = v / l;
  }
}

#version 450
// Router top-k: for each token's row of E expert logits (already computed,
// bias included), the k best experts sorted by logit, highest first (on a tie
// the lower expert index first, like torch.topk), and softmax weights over the
// k selected logits. One workgroup per token (flat over x and y); E <= 128 and
// k <= 8. Each invocation ranks its experts by counting the ones that beat them.
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Logits { float logits[]; };  // [tokens * E]
layout(std430, binding = 1) writeonly buffer Index { uint index_[]; };   // [tokens * k]
layout(std430, binding = 2) writeonly buffer Weight { float weight[]; }; // [tokens * k]

layout(push_constant) uniform Params {
  uint experts;
  uint k;
  uint tokens;
} p;

const uint MAX_EXPERTS = 128;
const uint MAX_K = 8;

shared float l_s[MAX_EXPERTS];
shared uint chosen[MAX_K];

#include "common/grid.glsl"

void main() {
  const uint token = flat_workgroup_id();
  if (token >= p.tokens) return;  // uniform across the workgroup
  const uint tid = gl_LocalInvocationID.x;
  const uint E = p.experts;
  for (uint e = tid; e < E; e += gl_WorkGroupSize.x) l_s[e] = logits[token * E + e];
  memoryBarrierShared();
  barrier();
  for (uint e = tid; e < E; e += gl_WorkGroupSize.x) {
    const float v = l_s[e];
    uint rank = 0;
    for (uint o = 0; o < E; ++o) {
      const float w = l_s[o];
      if (w > v || (w == v && o < e)) ++rank;
    }
    if (rank < p.k) chosen[rank] = e;
  }
  memoryBarrierShared();
  barrier();
  if (tid == 0) {
    const float top = l_s[chosen[0]];
    float w[MAX_K];
    float sum = 0.0;
    for (uint i = 0; i < p.k; ++i) {
      w[i] = exp(l_s[chosen[i]] - top);
      sum += w[i];
    }
    for (uint i = 0; i < p.k; ++i) {
      index_[token * p.k + i] = chosen[i];
      weight[token * p.k + i] = w[i] / sum;
    }
  }
}

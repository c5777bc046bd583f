#version 450
// The router, fused: for each token, the MLP's RMSNorm of the residual row,
// n = x / sqrt(mean(x^2) + eps) * norm (also written out for the experts),
// the E expert logits dot(W[e], n) + bias[e]
// (W dense in a layout of common/dense.glsl), then the k best experts sorted by
// logit, highest first (on a tie the lower expert index first, like
// torch.topk), and softmax weights over the k selected logits. One workgroup
// per token (flat over x and y); E <= 128 and k <= 8; the router matrix is one
// buffer (it is at most 128 x hidden values, far under any storage limit).
// The logits stay in shared memory: nothing but the choice (and the normed
// row) leaves the kernel. Each invocation ranks its experts by counting the
// ones that beat them. Doing the norm here saves the decode step a dispatch
// and a barrier per layer: the router is the norm's first consumer, and it
// already has one workgroup per token.
//
// In decode that one workgroup reads the whole router matrix (368 KB of F32
// a layer for gpt-oss-20b) on one SM, so its speed is how many loads it keeps
// in flight. The workgroup is split into lane groups, each summing whole
// expert rows (up to ROWS_PER_GROUP at once, sharing the normed x it loads):
// every invocation streams its share of a row with no barrier until the
// logits are complete. A group is a subgroup in the _subgroup variant, where
// its sum is one subgroupAdd; otherwise it is a power-of-two run of
// invocations that sums through shared memory.
//
// Split mode (splits > 1, decode): one workgroup still reads from one SM, a
// few loads in flight, so a short chunk spreads each token's logits over
// column slices instead: workgroup (x, y) takes columns [x * width, + width)
// of every row for token y (width a multiple of 32, so Q8 blocks and words
// are whole), writes its normed columns and its slice of each logit to
// Partial, and the token's last workgroup to finish (common/arrival.glsl)
// sums the slices in slice order, adds the biases and picks. Which workgroup
// is last varies; the sums' order, so the result, does not. Every slice
// computes the row's sum of squares itself: the same workgroup_sum over the
// same values, so the same bits in each.
#ifdef OSSDESK_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint FORMAT = 2;

layout(std430, binding = 0) readonly buffer W { uint w[]; };            // [E rows]
layout(std430, binding = 1) readonly buffer WScale { float wscale[]; }; // Q8 only
layout(std430, binding = 2) readonly buffer X { float x[]; };           // [tokens * cols]: the residual
layout(std430, binding = 3) readonly buffer Bias { float bias[]; };     // [E]
layout(std430, binding = 4) writeonly buffer Index { uint index_[]; };  // [tokens * k]
layout(std430, binding = 5) writeonly buffer Weight { float weight[]; };// [tokens * k]
layout(std430, binding = 6) readonly buffer Norm { float norm[]; };     // [cols]
layout(std430, binding = 7) writeonly buffer Normed { float normed[]; };// [tokens * cols]
// Split mode only, written and read by different workgroups of one dispatch.
layout(std430, binding = 8) coherent buffer Partial { float partial[]; };  // [tokens x splits x experts]
layout(std430, binding = 9) coherent buffer Arrivals { uint arrivals[]; }; // [tokens], zero between dispatches

layout(push_constant) uniform Params {
  uint experts;
  uint k;
  uint tokens;
  uint cols;
  uint row_stride;  // words
  float eps;
  uint width;       // columns a workgroup takes: cols unless split
  uint splits;      // workgroups along x per token; 1: one workgroup per token (flat over x and y)
} p;

const uint MAX_EXPERTS = 128;
const uint MAX_K = 8;
const uint ROWS_PER_GROUP = 4;

shared float l_s[MAX_EXPERTS];
shared uint chosen[MAX_K];

#include "common/reduce.glsl"
#include "common/dense.glsl"
#include "common/arrival.glsl"

// The lane groups: how many (groups), which one this invocation is in (group),
// its size (lanes) and this invocation's place in it (lane, 0 .. lanes - 1).
// group_sum must be called by every invocation, in uniform control flow.
#ifdef OSSDESK_SUBGROUP
// Counted rather than taken from gl_SubgroupSize and gl_SubgroupInvocationID,
// which need not describe a partially filled subgroup.
uint group_lanes(uint experts) { return subgroupAdd(1u); }
uint group_lane(uint experts) { return subgroupExclusiveAdd(1u); }
uint group_count(uint experts) { return gl_NumSubgroups; }
uint group_id(uint experts) { return gl_SubgroupID; }
float group_sum(float v, uint lanes, uint lane) { return subgroupAdd(v); }
#else
// As many groups as experts (rounded up to a power of two), at most one per
// invocation; the workgroup size is a power of two, so the groups tile it.
uint group_count(uint experts) {
  uint groups = 1u;
  while (groups < experts && groups < gl_WorkGroupSize.x) groups <<= 1;
  return groups;
}
uint group_lanes(uint experts) { return gl_WorkGroupSize.x / group_count(experts); }
uint group_lane(uint experts) { return gl_LocalInvocationID.x % group_lanes(experts); }
uint group_id(uint experts) { return gl_LocalInvocationID.x / group_lanes(experts); }
float group_sum(float v, uint lanes, uint lane) {
  const uint tid = gl_LocalInvocationID.x;
  reduce_scratch[tid] = v;
  memoryBarrierShared();
  barrier();
  for (uint s = lanes / 2u; s > 0u; s >>= 1) {
    if (lane < s) reduce_scratch[tid] += reduce_scratch[tid + s];
    memoryBarrierShared();
    barrier();
  }
  const float total = reduce_scratch[tid - lane];
  memoryBarrierShared();
  barrier();  // the scratch is reused by the next call
  return total;
}
#endif

void main() {
  const bool split = p.splits > 1u;  // uniform
  const uint token = split ? gl_WorkGroupID.y : flat_workgroup_id();
  if (token >= p.tokens) return;  // uniform across the workgroup
  const uint slice = split ? gl_WorkGroupID.x : 0u;
  const uint tid = gl_LocalInvocationID.x;
  const uint E = p.experts;
  const uint vpw = values_per_word();
  const uint col0 = slice * p.width, col_end = min(p.cols, col0 + p.width);  // this workgroup's columns
  const uint first_word = col0 / vpw, end_word = (col_end + vpw - 1u) / vpw;
  const uint xb = token * p.cols;

  float ss = 0.0;
  for (uint c = tid; c < p.cols; c += gl_WorkGroupSize.x) ss += x[xb + c] * x[xb + c];
  const float inv = inversesqrt(workgroup_sum(ss) / float(p.cols) + p.eps);
  for (uint c = col0 + tid; c < col_end; c += gl_WorkGroupSize.x) normed[xb + c] = x[xb + c] * inv * norm[c];

  const uint lanes = group_lanes(E), lane = group_lane(E), groups = group_count(E), group = group_id(E);
  // A round gives each group up to ROWS_PER_GROUP rows: group, group + groups, ...
  for (uint base = 0; base < E; base += groups * ROWS_PER_GROUP) {
    const uint rows = min(ROWS_PER_GROUP, (E - base + groups - 1u) / groups);  // uniform
    const uint first = base + group;
    float acc[ROWS_PER_GROUP];
    for (uint r = 0; r < ROWS_PER_GROUP; ++r) acc[r] = 0.0;
    if (first < E) {
      for (uint kw = first_word + lane; kw < end_word; kw += lanes) {
        const uint c = kw * vpw;
        vec4 xv = vec4(0.0);
        for (uint i = 0; i < vpw; ++i) xv[i] = c + i < p.cols ? x[xb + c + i] * inv * norm[c + i] : 0.0;
        for (uint r = 0; r < ROWS_PER_GROUP; ++r) {
          const uint row = first + r * groups;
          if (r < rows && row < E) {
            vec4 wv = unpack_word(w[row * p.row_stride + kw]);
            if (FORMAT == FMT_Q8) wv *= wscale[row * (p.cols / 32u) + c / 32u];
            acc[r] += dot(wv, xv);
          }
        }
      }
    }
    for (uint r = 0; r < ROWS_PER_GROUP; ++r) {
      if (r >= rows) break;  // uniform
      const float total = group_sum(acc[r], lanes, lane);
      const uint row = first + r * groups;
      if (lane == 0u && row < E) {
        if (split) partial[(token * p.splits + slice) * E + row] = total;
        else l_s[row] = total + bias[row];
      }
    }
  }
  if (split) {
    if (!last_to_arrive(token, p.splits)) return;  // uniform
    for (uint e = tid; e < E; e += gl_WorkGroupSize.x) {
      float sum = 0.0;
      for (uint s = 0; s < p.splits; ++s) sum += partial[(token * p.splits + s) * E + e];
      l_s[e] = sum + bias[e];
    }
  }
  memoryBarrierShared();
  barrier();
  for (uint e = tid; e < E; e += gl_WorkGroupSize.x) {
    const float v = l_s[e];
    uint rank = 0;
    for (uint o = 0; o < E; ++o) {
      const float u = l_s[o];
      if (u > v || (u == v && o < e)) ++rank;
    }
    if (rank < p.k) chosen[rank] = e;
  }
  memoryBarrierShared();
  barrier();
  if (tid == 0) {
    const float top = l_s[chosen[0]];
    float wk[MAX_K];
    float sum = 0.0;
    for (uint i = 0; i < p.k; ++i) {
      wk[i] = exp(l_s[chosen[i]] - top);
      sum += wk[i];
    }
    for (uint i = 0; i < p.k; ++i) {
      index_[token * p.k + i] = chosen[i];
      weight[token * p.k + i] = wk[i] / sum;
    }
  }
}

// Workgroup-wide float sum for one-dimensional workgroups. Include after
// `layout(local_size_x_id = 0) in;`. The plain variant is a shared-memory tree
// and needs a power-of-two workgroup size (the host guarantees it); the
// OSSDESK_SUBGROUP variant adds within subgroups first (the shader enables
// GL_KHR_shader_subgroup_basic and _arithmetic at its top). Every invocation
// of the workgroup must call it, in uniform control flow.
shared float reduce_scratch[gl_WorkGroupSize.x];

#ifdef OSSDESK_SUBGROUP
float workgroup_sum(float v) {
  v = subgroupAdd(v);
  if (subgroupElect()) reduce_scratch[gl_SubgroupID] = v;
  memoryBarrierShared();
  barrier();
  float total = 0.0;
  for (uint i = 0; i < gl_NumSubgroups; ++i) total += reduce_scratch[i];
  memoryBarrierShared();
  barrier();  // the scratch is reused by the next call
  return total;
}
#else
float workgroup_sum(float v) {
  const uint tid = gl_LocalInvocationID.x;
  reduce_scratch[tid] = v;
  memoryBarrierShared();
  barrier();
  for (uint s = gl_WorkGroupSize.x / 2; s > 0; s >>= 1) {
    if (tid < s) reduce_scratch[tid] += reduce_scratch[tid + s];
    memoryBarrierShared();
    barrier();
  }
  const float total = reduce_scratch[0];
  memoryBarrierShared();
  barrier();  // the scratch is reused by the next call
  return total;
}
#endif

#include "common/grid.glsl"

#version 450
// Groups this chunk's expert assignments (token t, slot s -> expert) by expert
// and cuts each expert's list into tiles of at most TILE assignments (layout in
// common/moe_route.glsl). One workgroup; counts with shared atomics, the tile
// list is made by one invocation (at most 128 experts).
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TILE = 8;

layout(std430, binding = 0) readonly buffer Choice { uint choice[]; };  // [tokens x k]
layout(std430, binding = 1) buffer Route { uint route[]; };

layout(push_constant) uniform Params {
  uint assignments;  // tokens * k
  uint experts;
  uint entry_base;
} p;

#include "common/moe_route.glsl"

const uint MAX_EXPERTS = 128;
shared uint count_s[MAX_EXPERTS];
shared uint start_s[MAX_EXPERTS];

void main() {
  const uint tid = gl_LocalInvocationID.x;
  for (uint e = tid; e < p.experts; e += gl_WorkGroupSize.x) count_s[e] = 0u;
  barrier();
  for (uint i = tid; i < p.assignments; i += gl_WorkGroupSize.x) atomicAdd(count_s[choice[i]], 1u);
  barrier();
  if (tid == 0u) {
    uint start = 0u, tiles = 0u;
    for (uint e = 0; e < p.experts; ++e) {
      const uint n = count_s[e];
      start_s[e] = start;
      for (uint first = 0; first < n; first += TILE) {
        route[ROUTE_TILES + 3u * tiles] = e;
        route[ROUTE_TILES + 3u * tiles + 1u] = start + first;
        route[ROUTE_TILES + 3u * tiles + 2u] = min(TILE, n - first);
        ++tiles;
      }
      start += n;
      count_s[e] = 0u;  // reused as the fill cursor below
    }
    route[0] = tiles;
  }
  barrier();
  for (uint i = tid; i < p.assignments; i += gl_WorkGroupSize.x) {
    const uint e = choice[i];
    route[p.entry_base + start_s[e] + atomicAdd(count_s[e], 1u)] = i;
  }
}

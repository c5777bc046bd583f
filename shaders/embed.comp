#version 450
// Embedding lookup: x[t] = row tokens[t] of the table, for the tokens of this
// step (step buffer, see forward layout in vk_forward.cpp). A table larger than
// one storage buffer is uploaded in row parts; each part is one dispatch that
// fills only the tokens whose row it holds (row0 <= id < row0 + rows).
// One invocation per (word of a row, token): x is dispatched as words, z as tokens.
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;
layout(constant_id = 2) const uint FORMAT = 2;

layout(std430, binding = 0) readonly buffer Step { uint step[]; };  // [4 + t] = token t
layout(std430, binding = 1) readonly buffer W { uint w[]; };
layout(std430, binding = 2) readonly buffer WScale { float wscale[]; };
layout(std430, binding = 3) writeonly buffer X { float x[]; };  // [tokens x cols]

layout(push_constant) uniform Params {
  uint rows;  // rows in this part
  uint row0;  // first token id of this part
  uint cols;
  uint row_stride;  // words
} p;

#include "common/dense.glsl"

void main() {
  const uint k = gl_GlobalInvocationID.x;
  const uint t = gl_WorkGroupID.z;
  const uint id = step[4u + t];
  if (id < p.row0 || id - p.row0 >= p.rows) return;
  const uint vpw = values_per_word();
  const uint c = k * vpw;
  if (c >= p.cols) return;
  const uint r = id - p.row0;
  vec4 v = unpack_word(w[r * p.row_stride + k]);
  if (FORMAT == FMT_Q8) v *= wscale[r * (p.cols / 32u) + c / 32u];
  for (uint i = 0; i < vpw && c + i < p.cols; ++i) x[t * p.cols + c + i] = v[i];
}

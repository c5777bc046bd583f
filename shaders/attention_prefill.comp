#version 450
// Tiled causal attention for a prefill chunk (T > 1 query tokens) over one
// layer's f16 KV cache, with the learned per-head sink and sliding windows:
// the same result as attention.comp, organised so each key and value read from
// memory serves many query rows.
//
// A workgroup owns one kv head and WG consecutive query rows of it; row r is
// token r / G, head kv_head * G + r % G (G = heads / kv_heads, the query heads
// that share the kv head), and each invocation owns one row: its query and its
// output accumulator live in registers. The workgroup walks the keys its rows
// can see (first .. the last row's position) in tiles of KEY_TILE: the tile's
// keys and values are staged once in shared memory (still f16 pairs), then
// every row scores the tile, rescales its running max and denominator once,
// and adds the tile's weighted values. The softmax starts from the sink (max =
// sink, denominator = 1), which adds no value. Token t sits at position
// step[0] + t and sees keys pos - window + 1 .. pos (window > 0) or 0 .. pos;
// key j lives in slot j % ring (ring > 0) or j.
// Specialization: 0 = WG (rows and invocations per workgroup), 1 = head_dim
// (even), 2 = KEY_TILE. Workgroups: x = kv head, y = row block.
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HEAD_DIM = 64;
layout(constant_id = 2) const uint KEY_TILE = 32;

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
  uint tokens;
} p;

const uint HALF = HEAD_DIM / 2;
const float NO_SCORE = -3.0e38;

shared uint k_s[KEY_TILE * HALF];
shared uint v_s[KEY_TILE * HALF];

void main() {
  const uint kvh = gl_WorkGroupID.x;
  const uint tid = gl_LocalInvocationID.x;
  const uint WG = gl_WorkGroupSize.x;
  const uint G = p.heads / p.kv_heads;
  const uint rows = p.tokens * G;
  const uint row0 = gl_WorkGroupID.y * WG;
  const uint row = row0 + tid;
  const bool row_live = row < rows;
  const uint t = min(row, rows - 1u) / G;
  const uint head = kvh * G + min(row, rows - 1u) % G;
  const uint row_words = p.kv_heads * HALF;
  const uint kv_off = kvh * HALF;

  // This row's query, its visible keys, and the keys of the whole block.
  const uint pos = step[0] + t;
  const uint lo = (p.window > 0u && pos + 1u > p.window) ? pos + 1u - p.window : 0u;
  const uint pos_first = step[0] + row0 / G;
  const uint pos_last = step[0] + (min(row0 + WG, rows) - 1u) / G;
  const uint first = (p.window > 0u && pos_first + 1u > p.window) ? pos_first + 1u - p.window : 0u;

  vec2 qv[HALF];
  vec2 acc[HALF];
  const uint q_base = (t * p.heads + head) * HEAD_DIM;
  for (uint d = 0; d < HALF; ++d) {
    qv[d] = row_live ? vec2(q[q_base + 2u * d], q[q_base + 2u * d + 1u]) * p.scale : vec2(0.0);
    acc[d] = vec2(0.0);
  }
  float m = sinks[head];
  float l = 1.0;

  for (uint j0 = first; j0 <= pos_last; j0 += KEY_TILE) {
    const uint n = min(KEY_TILE, pos_last + 1u - j0);
    for (uint i = tid; i < n * HALF; i += WG) {
      const uint key = j0 + i / HALF;
      const uint slot = p.ring > 0u ? key % p.ring : key;
      const uint src = slot * row_words + kv_off + i % HALF;
      k_s[i] = keys[src];
      v_s[i] = values[src];
    }
    memoryBarrierShared();
    barrier();

    if (row_live && j0 <= pos && j0 + n > lo) {
      float s[KEY_TILE];
      float tile_max = NO_SCORE;
      for (uint jj = 0; jj < KEY_TILE; ++jj) {
        const uint j = j0 + jj;
        s[jj] = NO_SCORE;
        if (jj < n && j <= pos && j >= lo) {
          float dot_ = 0.0;
          for (uint d = 0; d < HALF; ++d) dot_ += dot(qv[d], unpackHalf2x16(k_s[jj * HALF + d]));
          s[jj] = dot_;
          tile_max = max(tile_max, dot_);
        }
      }
      const float m_new = max(m, tile_max);
      const float alpha = exp(m - m_new);
      l *= alpha;
      for (uint d = 0; d < HALF; ++d) acc[d] *= alpha;
      for (uint jj = 0; jj < KEY_TILE; ++jj) {
        if (s[jj] == NO_SCORE) continue;
        const float w = exp(s[jj] - m_new);
        l += w;
        for (uint d = 0; d < HALF; ++d) acc[d] += w * unpackHalf2x16(v_s[jj * HALF + d]);
      }
      m = m_new;
    }
    memoryBarrierShared();
    barrier();  // the next tile overwrites k_s and v_s
  }

  if (row_live) {
    const float inv = 1.0 / l;
    for (uint d = 0; d < HALF; ++d) {
      out_[q_base + 2u * d] = acc[d].x * inv;
      out_[q_base + 2u * d + 1u] = acc[d].y * inv;
    }
  }
}

// The sums of the grouped expert products (moe_gate_up_grouped,
// moe_down_grouped): for rows row0 .. row0 + nrows - 1 of one expert's MXFP4
// matrix (common/mxfp4.glsl; the row index clamped to last_row, the caller
// drops the copies) and the tile's TILE entries, whose inputs start at
// in4[xbase[j]] (8 vec4 a 32-value block),
//   acc[r][j] = this invocation's share of W[row0 + r] . input j.
// Each weight word is decoded once for the tile's TILE tokens, then the
// block's sums are those of block_dot (same terms, same order), so a grouped
// product has the bits of the per-token one. `first_block` is the block index
// of the expert's row 0. Include after common/mxfp4.glsl, with `vec4 in4[]`,
// TILE, MAX_ROWS and MAX_TILE declared.
void tile_sums(uint first_block, uint row0, uint nrows, uint last_row, uint blocks, uint xbase[MAX_TILE],
               out float acc[MAX_ROWS][MAX_TILE]) {
  for (uint r = 0; r < MAX_ROWS; ++r)
    for (uint j = 0; j < MAX_TILE; ++j) acc[r][j] = 0.0;
  for (uint b = gl_LocalInvocationID.x; b < blocks; b += gl_WorkGroupSize.x) {
    uvec4 q[MAX_ROWS];
    float sc[MAX_ROWS];
    for (uint r = 0; r < nrows; ++r) {
      const uint block = first_block + min(row0 + r, last_row) * blocks + b;
      q[r] = qs[block];
      sc[r] = block_scale(block);
    }
    float s[MAX_ROWS][MAX_TILE];
    for (uint r = 0; r < MAX_ROWS; ++r)
      for (uint j = 0; j < MAX_TILE; ++j) s[r][j] = 0.0;
    for (uint w = 0; w < 4u; ++w) {
      vec4 lo[MAX_ROWS], hi[MAX_ROWS];
      for (uint r = 0; r < nrows; ++r) fp4_word(q[r][w], lo[r], hi[r]);
      for (uint j = 0; j < TILE; ++j) {
        const vec4 xl = in4[xbase[j] + b * 8u + w], xh = in4[xbase[j] + b * 8u + 4u + w];
        for (uint r = 0; r < nrows; ++r) s[r][j] += dot(lo[r], xl) + dot(hi[r], xh);
      }
    }
    for (uint r = 0; r < nrows; ++r)
      for (uint j = 0; j < TILE; ++j) acc[r][j] += s[r][j] * sc[r];
  }
}

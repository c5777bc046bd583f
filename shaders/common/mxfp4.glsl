// MXFP4 expert weights in the GPU layout of vk_weights: for each row, cols/32
// blocks of 16 bytes (a uvec4; the low nibbles are elements 0..15 of the block,
// the high nibbles elements 16..31, FP4 E2M1), and separately one E8M0 scale
// byte per block, packed four to a word. Include after declaring
// `uvec4 qs[]` and `uint scales[]` (and the workgroup size).
//
// A product reads 2 weights a byte, so on a GPU with fast memory decoding is
// its cost: an H100 at full bandwidth (14.5 bytes a clock an SM) must turn
// about 29 weights a clock into floats on each SM. Building a float from its
// code (fp4 below) takes about 7 integer operations, and an SM runs 64 a
// clock: 9 weights. So the products look the 16 values up in shared memory
// instead: a shift and a mask for the index, then one load, of which an SM
// serves 32 a clock: about 30 weights. Shared memory, not a constant array:
// lanes index the table divergently, and 16 floats in 16 banks never
// conflict, where some GPUs serialize divergent constant reads.

// E2M1: sign bit 3, exponent bits 1-2, mantissa bit 0; exponent 0 is 0 or 0.5.
// With i the low 3 bits, exponent e = i >> 1 and mantissa m = i & 1 make the
// float bits (e + 126) << 23 | m << 22 = (i + 252) << 22 for i >= 2.
float fp4(uint n) {
  const uint i = n & 7u;
  const uint magnitude = i >= 2u ? i * 0x00400000u + 0x3f000000u : i * 0x3f000000u;  // i = 1: 0.5, i = 0: 0
  return uintBitsToFloat(magnitude | ((n & 8u) << 28));
}

shared float fp4_values[16];

// Fills fp4_values. Every invocation of the workgroup calls it once, in
// uniform control flow (first thing in main), before any block_dot.
void load_fp4_values() {
  for (uint n = gl_LocalInvocationID.x; n < 16u; n += gl_WorkGroupSize.x) fp4_values[n] = fp4(n);
  memoryBarrierShared();
  barrier();
}

// 2^(e-127) exactly; 0 is the subnormal 2^-127 and 255 is NaN, as E8M0 defines.
float e8m0(uint e) {
  if (e == 0u) return uintBitsToFloat(0x00400000u);
  if (e == 255u) return uintBitsToFloat(0x7fc00000u);
  return uintBitsToFloat(e << 23);
}

float block_scale(uint block) { return e8m0((scales[block >> 2] >> ((block & 3u) * 8u)) & 0xffu); }

// The 8 weights of word w of a block: elements 4w .. 4w+3 (low nibbles) in lo,
// 16 + 4w .. 16 + 4w+3 (high nibbles) in hi.
void fp4_word(uint word, out vec4 lo, out vec4 hi) {
  lo = vec4(fp4_values[word & 15u], fp4_values[(word >> 8) & 15u], fp4_values[(word >> 16) & 15u],
            fp4_values[(word >> 24) & 15u]);
  hi = vec4(fp4_values[(word >> 4) & 15u], fp4_values[(word >> 12) & 15u], fp4_values[(word >> 20) & 15u],
            fp4_values[word >> 28]);
}

// dot(one block's 32 weights, x) unscaled, with x[4j .. 4j+3] in xs[j]. The
// grouped kernels sum the same terms in the same order, word by word.
float block_dot(uvec4 q4, vec4 xs[8]) {
  float s = 0.0;
  for (uint w = 0; w < 4u; ++w) {
    vec4 lo, hi;
    fp4_word(q4[w], lo, hi);
    s += dot(lo, xs[w]) + dot(hi, xs[4u + w]);
  }
  return s;
}

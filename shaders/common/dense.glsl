// Dense weight rows in the GPU layouts the Vulkan backend uploads (vk_weights):
// rows are arrays of 32-bit words, `row_stride` words apart.
//   FORMAT 0: F32   one value per word
//   FORMAT 1: F16   two values per word (low half = even element)
//   FORMAT 2: BF16  two values per word (low half = even element)
//   FORMAT 3: Q8    four int8 per word, one float scale per 32 values in a
//                   separate array, `cols / 32` scales per row
// Include after declaring `uint w[]` (the words) and `float wscale[]`, and
// `layout(constant_id = 2) const uint FORMAT`.
const uint FMT_F32 = 0u;
const uint FMT_F16 = 1u;
const uint FMT_BF16 = 2u;
const uint FMT_Q8 = 3u;

uint values_per_word() { return FORMAT == FMT_F32 ? 1u : (FORMAT == FMT_Q8 ? 4u : 2u); }

// The values of word `k` of a row (k in words from the row start), unscaled for Q8.
// Q8's int8 become exact floats without int-to-float conversions (which
// NVIDIA SMs retire 16 a clock, near what a Q8 product at HBM bandwidth
// needs): each byte biased to v + 128 is the low mantissa byte of 2^23, and
// one subtraction of 2^23 + 128 leaves v.
vec4 unpack_word(uint word) {
  if (FORMAT == FMT_F32) return vec4(uintBitsToFloat(word), 0.0, 0.0, 0.0);
  if (FORMAT == FMT_F16) return vec4(unpackHalf2x16(word), 0.0, 0.0);
  if (FORMAT == FMT_BF16) return vec4(uintBitsToFloat(word << 16), uintBitsToFloat(word & 0xffff0000u), 0.0, 0.0);
  const uint biased = word ^ 0x80808080u;
  return uintBitsToFloat(uvec4(biased & 0xffu, (biased >> 8) & 0xffu, (biased >> 16) & 0xffu, biased >> 24) | 0x4b000000u) -
         8388736.0;
}

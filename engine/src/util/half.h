// Scalar conversions between float32 and the 16/8-bit float formats weights are stored in.
#pragma once

#include <cstdint>
#include <cstring>

namespace ossdesk {

inline float bf16_to_f32(std::uint16_t h) {
  std::uint32_t bits = static_cast<std::uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round to nearest even, NaN kept quiet (what torch's .to(bfloat16) does).
inline std::uint16_t f32_to_bf16(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>(bits >> 16);
}

float f16_to_f32(std::uint16_t h);
std::uint16_t f32_to_f16(float f);  // round to nearest even, overflow to inf

// FP8 E4M3 (the "fn" variant: no infinities, 0x7f/0xff are NaN, max 448).
float f8e4m3_to_f32(std::uint8_t v);

// E8M0 scale byte as used by MXFP4: 2^(e - 127); 0xff is NaN.
float e8m0_to_f32(std::uint8_t e);

// FP4 E2M1 code (bit 3 = sign) to float: {0, .5, 1, 1.5, 2, 3, 4, 6} and negatives.
extern const float kFp4E2M1Values[16];

}  // namespace ossdesk

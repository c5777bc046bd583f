// YaRN RoPE's rotation: cos and sin of a pair's angle, float(pos) *
// inv_freq[i] (inv_freq as the host's cpu::YarnRope computes it), scaled by
// the concentration. Include after declaring `float inv_freq[]`.
//
// cos/sin are evaluated here, not with the built-ins: GLSL's sin/cos are only
// specified to 2^-11 absolute error on [-pi, pi] and positions reach 131072,
// so the angle is reduced modulo pi/2 exactly (Cody-Waite, pi/2 in six 7-bit
// pieces, each k*piece exact since k < 2^17) and a Taylor polynomial on
// [-pi/4, pi/4] finishes it, within a few float ulps of the exact value.

// cos and sin of a non-negative angle below 2^17 * pi/2.
void cos_sin(float x, out float c, out float s) {
  const float n = floor(x * 0.63661977236758134 + 0.5);  // nearest multiple of pi/2
  precise float r = x - n * 1.5625;
  r = r - n * 8.17871093750000000000e-03;
  r = r - n * 1.17301940917968750000e-04;
  r = r - n * 3.12924385070800781250e-07;
  r = r - n * 9.89530235528945922852e-10;
  r = r - n * 2.55795384873636066914e-12;
  const float r2 = r * r;
  // Taylor to r^9 / r^10: truncation below 2e-9 on |r| <= pi/4.
  const float sr = r * (1.0 + r2 * (-1.0 / 6.0 + r2 * (1.0 / 120.0 + r2 * (-1.0 / 5040.0 + r2 * (1.0 / 362880.0)))));
  const float cr =
      1.0 + r2 * (-0.5 + r2 * (1.0 / 24.0 + r2 * (-1.0 / 720.0 + r2 * (1.0 / 40320.0 + r2 * (-1.0 / 3628800.0)))));
  const uint quadrant = uint(n) & 3u;
  if (quadrant == 0u) {
    c = cr;
    s = sr;
  } else if (quadrant == 1u) {
    c = -sr;
    s = cr;
  } else if (quadrant == 2u) {
    c = -cr;
    s = -sr;
  } else {
    c = sr;
    s = -cr;
  }
}

// cos and sin of pair i's angle at position pos, scaled by the concentration.
void rotation(uint pos, uint i, float concentration, out float c, out float s) {
  precise const float angle = float(pos) * inv_freq[i];
  cos_sin(angle, c, s);
  c *= concentration;
  s *= concentration;
}

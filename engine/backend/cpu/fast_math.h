// exp and log1p for the BCE loop, inlined polynomials instead of glibc's expf and log1pf (scalar
// calls unless the whole program is built with -ffast-math, which the reference must not be).
// Written to be vectorisable (the BCE loop runs 8 floats at a time with them). Float: a few ulp from std::exp / std::log1p over the ranges used (tested in
// tests/test_cpu_ops.cpp); double: exactly the standard library, for the gradient checks.
#pragma once
#include <cmath>
#include <cstdint>

namespace cvae::cpu {

// exp(x) for x <= 0. Range reduction x = n·ln2 + r, |r| <= ln2/2, then a degree-7 Taylor
// polynomial (truncation error < 2e-8 relative) scaled by 2^n built in the exponent bits.
// Written so that GCC vectorises the loops that call it (no float compare-and-select, no
// float→int conversion, either of which kept the BCE loop scalar: bench/README.md):
//   - x is clamped at −87 (below, exp(x) < 1.7e-38: as good as 0 for the loss) as an unsigned
//     minimum of the bit patterns: for x <= 0 (sign bit set, or +0) a larger magnitude is a larger
//     pattern, and −inf and NaN land on −87 too;
//   - n = round(x·log2e) by adding and subtracting 1.5·2²³ (exact for |x·log2e| < 2²²), and the
//     integer n is the difference of the two floats' bit patterns.
inline float exp_nonpositive(float x) {
  const uint32_t floor_bits = __builtin_bit_cast(uint32_t, -87.0f);
  const uint32_t x_bits = __builtin_bit_cast(uint32_t, x);
  x = __builtin_bit_cast(float, x_bits < floor_bits ? x_bits : floor_bits);
  const float log2e = 1.44269504088896341f;
  const float ln2_hi = 0.693145751953125f, ln2_lo = 1.42860682030941723e-6f;
  const float magic = 12582912.0f;  // 1.5·2²³
  const float shifted = x * log2e + magic;
  const float n = shifted - magic;
  const int32_t whole = __builtin_bit_cast(int32_t, shifted) - __builtin_bit_cast(int32_t, magic);
  float r = std::fma(-n, ln2_hi, x);
  r = std::fma(-n, ln2_lo, r);
  float p = 1.0f / 5040.0f;
  p = std::fma(p, r, 1.0f / 720.0f);
  p = std::fma(p, r, 1.0f / 120.0f);
  p = std::fma(p, r, 1.0f / 24.0f);
  p = std::fma(p, r, 1.0f / 6.0f);
  p = std::fma(p, r, 0.5f);
  p = std::fma(p, r, 1.0f);
  p = std::fma(p, r, 1.0f);
  const int32_t bits = (whole + 127) << 23;
  return p * __builtin_bit_cast(float, bits);  // 2^n (a memcpy here would stop vectorisation)
}
inline double exp_nonpositive(double x) { return std::exp(x); }

// log(1 + e) for e in [0, 1]: log1p(e) = 2·atanh(s), s = e/(2+e) in [0, 1/3], summed as the odd
// series 2(s + s³/3 + … + s¹⁵/15); the first omitted term is below 2e-9 relative.
inline float log1p_unit(float e) {
  float s = e / (2.0f + e);
  float s2 = s * s;
  float p = 1.0f / 15.0f;
  p = std::fma(p, s2, 1.0f / 13.0f);
  p = std::fma(p, s2, 1.0f / 11.0f);
  p = std::fma(p, s2, 1.0f / 9.0f);
  p = std::fma(p, s2, 1.0f / 7.0f);
  p = std::fma(p, s2, 1.0f / 5.0f);
  p = std::fma(p, s2, 1.0f / 3.0f);
  p = std::fma(p, s2, 1.0f);
  return 2.0f * s * p;
}
inline double log1p_unit(double e) { return std::log1p(e); }

}  // namespace cvae::cpu

// exp and log1p for the BCE loop, inlined polynomials instead of glibc's expf and log1pf (scalar
// calls unless the whole program is built with -ffast-math, which the reference must not be).
// Written to be vectorisable; GCC 12 still keeps the BCE loop scalar ("control flow in loop", from
// the clamp together with the float→int conversion) — see bench/README.md. Float: a few ulp from std::exp / std::log1p over the ranges used (tested in
// tests/test_cpu_ops.cpp); double: exactly the standard library, for the gradient checks.
#pragma once
#include <cmath>
#include <cstdint>

namespace cvae::cpu {

// exp(x) for x <= 0. Range reduction x = n·ln2 + r, |r| <= ln2/2, then a degree-7 Taylor
// polynomial (truncation error < 2e-8 relative) scaled by 2^n built in the exponent bits.
inline float exp_nonpositive(float x) {
  x = x < -87.0f ? -87.0f : x;  // below this exp(x) < 1.7e-38: as good as 0 for the loss
  const float log2e = 1.44269504088896341f;
  const float ln2_hi = 0.693145751953125f, ln2_lo = 1.42860682030941723e-6f;
  float n = std::nearbyint(x * log2e);
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
  int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
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

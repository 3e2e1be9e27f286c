// Comparing an op's output with its reference, element by element, within a stated tolerance.
// Outputs are poisoned with NaN before the op, so NaN is accepted only where the reference is NaN
// too: an element the op forgot stays NaN, an element it should have left alone stops being NaN.
#pragma once
#include <catch2/catch.hpp>

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

namespace cvae::test {

constexpr double kFloatEps = FLT_EPSILON;

// Every element within tolerance(i) of the reference; reports the count and the first mismatch.
template <class Tolerance>
void check_close(const std::vector<float>& actual, const std::vector<float>& expected,
                 Tolerance tolerance, const std::string& what) {
  REQUIRE(actual.size() == expected.size());
  size_t mismatches = 0, first = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    float a = actual[i], e = expected[i];
    bool ok = std::isnan(e) ? std::isnan(a)
                            : (!std::isnan(a) && (a == e || std::fabs(double(a) - e) <= tolerance(i)));
    if (!ok && mismatches++ == 0) first = i;
  }
  if (mismatches) {
    INFO(what << ": " << mismatches << " of " << actual.size() << " elements out of tolerance; first at "
              << first << ": got " << actual[first] << ", expected " << expected[first]
              << ", tolerance " << tolerance(first));
    REQUIRE(mismatches == 0);
  }
}

inline void check_exact(const std::vector<float>& actual, const std::vector<float>& expected,
                        const std::string& what) {
  check_close(actual, expected, [](size_t) { return 0.0; }, what);
}

// |Δ| ≤ 1e-5 + 4ε·|ref|: elementwise values that went through exp/log (a few ulp apart between
// libraries) or a short chain of float operations.
inline auto elementwise_tolerance(const std::vector<float>& expected) {
  return [&expected](size_t i) { return 1e-5 + 4 * kFloatEps * std::fabs(double(expected[i])); };
}

}  // namespace cvae::test

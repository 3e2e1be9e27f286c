// Small shared pieces of the tests: seeded random inputs and a scratch folder.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/rng.h"

namespace cvae::test {

// Uniform values in [lo, hi) from Philox, deterministic per (seed, which).
inline std::vector<double> random_values(size_t n, uint64_t seed, double lo, double hi,
                                         uint32_t which = 0) {
  std::vector<double> v(n);
  RngPosition at{seed, RngStream::sample, which};
  for (size_t i = 0; i < n; ++i)
    v[i] = lo + (hi - lo) * uniform_at(at, static_cast<uint32_t>(i / 1024), static_cast<uint32_t>(i % 1024));
  return v;
}

template <class To>
std::vector<To> cast_all(const std::vector<double>& v) {
  return std::vector<To>(v.begin(), v.end());
}

inline std::vector<float> random_floats(size_t n, uint64_t seed, double lo, double hi,
                                        uint32_t which = 0) {
  return cast_all<float>(random_values(n, seed, lo, hi, which));
}

inline std::vector<uint8_t> random_bytes(size_t n, uint64_t seed) {
  std::vector<double> u = random_values(n, seed, 0, 256, 7);
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<uint8_t>(u[i]);
  return bytes;
}

// Integers in [0, below).
inline std::vector<int32_t> random_ints(size_t n, uint64_t seed, int below, uint32_t which = 3) {
  std::vector<double> u = random_values(n, seed, 0, below, which);
  std::vector<int32_t> ints(n);
  for (size_t i = 0; i < n; ++i) ints[i] = std::min(static_cast<int32_t>(u[i]), below - 1);
  return ints;
}

// The message of the cvae::Error that f throws, or "" when it throws none.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A fresh folder under /tmp, removed when the object goes.
struct ScratchDir {
  std::string path;
  ScratchDir() {
    char name[] = "/tmp/clustervae-test-XXXXXX";
    path = ::mkdtemp(name);
  }
  ~ScratchDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

}  // namespace cvae::test

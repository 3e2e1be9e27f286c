// Small shared pieces of the tests: seeded random inputs and a scratch folder.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

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

// A small synthetic data set in backend memory for model tests: n images of `pixels` random bytes
// (from a seed), labels i mod classes. The host copies stay beside the split.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/data/dataset.h"
#include "tests/test_helpers.h"

namespace cvae::test {

struct TinyData {
  std::vector<uint8_t> images;
  std::vector<int32_t> labels;
  DeviceSplit split;
};

inline TinyData tiny_data(Backend& backend, int n, int pixels, int classes, uint64_t seed) {
  TinyData d;
  std::vector<double> v = random_values(static_cast<size_t>(n) * pixels, seed, 0, 256);
  for (double x : v) d.images.push_back(static_cast<uint8_t>(x));
  for (int i = 0; i < n; ++i) d.labels.push_back(i % classes);
  LabelledImages host;
  host.images.pixels = d.images;
  host.images.count = n;
  host.images.rows = 1;
  host.images.cols = pixels;
  host.labels.labels = d.labels;
  host.labels.count = n;
  d.split = upload_split(backend, host);
  return d;
}

}  // namespace cvae::test

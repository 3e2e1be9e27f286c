// The order of an epoch's training images.
#pragma once
#include <cstdint>
#include <vector>

namespace cvae {

// Fisher–Yates shuffle of 0..n−1 driven by Philox (seed, epoch): the same order on every backend.
std::vector<int32_t> shuffled_order(int64_t n, uint64_t seed, int epoch);

}  // namespace cvae

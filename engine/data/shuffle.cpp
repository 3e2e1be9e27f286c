#include "engine/data/shuffle.h"

#include <numeric>

#include "engine/rng.h"

namespace cvae {

std::vector<int32_t> shuffled_order(int64_t n, uint64_t seed, int epoch) {
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  RngPosition at{seed, RngStream::shuffle, static_cast<uint32_t>(epoch)};
  for (int64_t i = n - 1; i > 0; --i) {
    int64_t j = static_cast<int64_t>(uniform_at(at, static_cast<uint32_t>(i), 0) * (i + 1));
    if (j > i) j = i;
    std::swap(order[i], order[j]);
  }
  return order;
}

}  // namespace cvae

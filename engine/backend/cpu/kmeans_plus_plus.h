// CPU reference: k-means++ seeding (Arthur & Vassilvitskii 2007), twin of kernels/kmeans_plus_plus.cu.
//   centre 0 = p_f,  f = ⌊u₀·n⌋ (clamped to n − 1);
//   D_i = min over the centres so far of ‖p_i − c‖², in double;
//   centre c = p_s, s = the first i with Σ_{i' ≤ i} D_i' > u_c·Σ D  (n − 1 if none; when Σ D = 0,
//   every point is a centre already: s = ⌊u'_c·n⌋ mod n),
// with u_c = uniform_at({seed, kmeans_init}, c, 0) and u'_c its column 1 — the same numbers on
// every backend, so both pick the same points.
#pragma once
#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "engine/rng.h"

namespace cvae::cpu {

inline void kmeans_plus_plus(const float* points, int64_t n, int dim, int ld, int k, uint64_t seed,
                             float* centres) {
  const RngPosition at{seed, RngStream::kmeans_init, 0};
  std::vector<double> nearest(n, std::numeric_limits<double>::infinity());
  auto copy_centre = [&](int c, int64_t i) {
    std::copy(points + i * ld, points + i * ld + dim, centres + static_cast<int64_t>(c) * dim);
  };
  copy_centre(0, std::min<int64_t>(n - 1, static_cast<int64_t>(uniform_at(at, 0, 0) * n)));
  for (int c = 1; c < k; ++c) {
    const float* last = centres + static_cast<int64_t>(c - 1) * dim;
    double total = 0;
    for (int64_t i = 0; i < n; ++i) {
      double d = 0;
      for (int j = 0; j < dim; ++j) {
        const double diff = static_cast<double>(points[i * ld + j]) - last[j];
        d += diff * diff;
      }
      nearest[i] = std::min(nearest[i], d);
      total += nearest[i];
    }
    int64_t chosen = n - 1;
    if (total > 0) {
      const double target = uniform_at(at, static_cast<uint32_t>(c), 0) * total;
      double running = 0;
      for (int64_t i = 0; i < n; ++i) {
        running += nearest[i];
        if (running > target) { chosen = i; break; }
      }
    } else {
      chosen = static_cast<int64_t>(uniform_at(at, static_cast<uint32_t>(c), 1) * n) % n;
    }
    copy_centre(c, chosen);
  }
}

}  // namespace cvae::cpu

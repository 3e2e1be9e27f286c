// The synthetic data of the Lloyd benchmarks (bench_backend_ops and the assign-variant study).
#pragma once
#include <cstdint>
#include <vector>

namespace cvae::bench {

// The Lloyd benchmark's data, the same bits in bench/lloyd_torch.py: hash(x) = (x·2654435761 mod
// 2³²) / 2³² in [0, 1), everything in double, rounded to float once. K true centres in [−3, 3)^D;
// point i = centre (i mod K) + uniform noise in [−3, 3)^D, so the clusters overlap as a real
// re-fit's do; the starting centroids are the true centres moved by up to ±0.125 per coordinate.
inline double lloyd_hash(uint64_t x) { return static_cast<double>((x * 2654435761ull) & 0xffffffffull) / 4294967296.0; }

inline double lloyd_centre(int64_t c, int64_t j, int dim) { return 6.0 * lloyd_hash(c * dim + j + 1000003) - 3.0; }

inline void lloyd_data(int64_t n, int dim, int k, std::vector<float>& points, std::vector<float>& centroids) {
  points.resize(n * dim);
  centroids.resize(static_cast<size_t>(k) * dim);
  for (int64_t i = 0; i < n; ++i)
    for (int j = 0; j < dim; ++j)
      points[i * dim + j] = static_cast<float>(lloyd_centre(i % k, j, dim) + 6.0 * (lloyd_hash(i * dim + j) - 0.5));
  for (int64_t c = 0; c < k; ++c)
    for (int j = 0; j < dim; ++j)
      centroids[c * dim + j] = static_cast<float>(lloyd_centre(c, j, dim) + 0.25 * (lloyd_hash(c * dim + j + 7000001) - 0.5));
}

}  // namespace cvae::bench

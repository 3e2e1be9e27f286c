#include "engine/prior/movable.h"

#include <cmath>

#include "engine/error.h"

namespace cvae {

CentreGeometry centre_geometry(const std::vector<float>& centres, int k, int latent) {
  CentreGeometry g;
  g.mean.assign(latent, 0.0);
  for (int c = 0; c < k; ++c)
    for (int j = 0; j < latent; ++j) g.mean[j] += centres[static_cast<size_t>(c) * latent + j] / k;
  double sq = 0;
  for (int c = 0; c < k; ++c)
    for (int j = 0; j < latent; ++j) {
      double d = centres[static_cast<size_t>(c) * latent + j] - g.mean[j];
      sq += d * d;
    }
  g.spread = std::sqrt(sq / k);
  return g;
}

std::vector<float> class_means(const std::vector<float>& sums, const std::vector<float>& counts,
                               const std::vector<float>& previous, int k, int latent) {
  std::vector<float> means = previous;
  for (int c = 0; c < k; ++c) {
    if (counts[c] <= 0) continue;
    for (int j = 0; j < latent; ++j)
      means[static_cast<size_t>(c) * latent + j] = sums[static_cast<size_t>(c) * latent + j] / counts[c];
  }
  return means;
}

std::vector<double> pairwise_distances(const std::vector<float>& centres, int k, int latent) {
  std::vector<double> d(static_cast<size_t>(k) * k, 0.0);
  for (int a = 0; a < k; ++a)
    for (int b = 0; b < k; ++b) {
      double sq = 0;
      for (int j = 0; j < latent; ++j) {
        double diff = static_cast<double>(centres[static_cast<size_t>(a) * latent + j]) -
                      centres[static_cast<size_t>(b) * latent + j];
        sq += diff * diff;
      }
      d[static_cast<size_t>(a) * k + b] = std::sqrt(sq);
    }
  return d;
}

std::vector<float> anchor_centres(const std::vector<float>& centres, int k, int latent,
                                  const CentreGeometry& target, double min_distance) {
  if (centres.size() != static_cast<size_t>(k) * latent) fail("anchor: centres have the wrong size");
  if (k > 1 && min_distance > 2.0 * target.spread)
    fail("anchor: min_distance is larger than the spread allows");
  // Work in double around the target mean.
  std::vector<double> x(centres.begin(), centres.end());
  CentreGeometry now = centre_geometry(centres, k, latent);
  double scale = now.spread > 0 ? target.spread / now.spread : 1.0;
  for (int c = 0; c < k; ++c)
    for (int j = 0; j < latent; ++j) {
      double& v = x[static_cast<size_t>(c) * latent + j];
      v = target.mean[j] + (v - now.mean[j]) * scale;
    }
  // Push too-close pairs apart, each by half the shortfall, along their difference (a fixed axis
  // when they coincide). Pushes preserve the mean; a few sweeps settle every pair.
  for (int sweep = 0; sweep < 1000; ++sweep) {
    bool moved = false;
    for (int a = 0; a < k; ++a)
      for (int b = a + 1; b < k; ++b) {
        double* pa = &x[static_cast<size_t>(a) * latent];
        double* pb = &x[static_cast<size_t>(b) * latent];
        double sq = 0;
        for (int j = 0; j < latent; ++j) sq += (pa[j] - pb[j]) * (pa[j] - pb[j]);
        double dist = std::sqrt(sq);
        if (dist >= min_distance * (1 + 1e-9)) continue;
        moved = true;
        double shortfall = min_distance * (1 + 1e-6) - dist;
        for (int j = 0; j < latent; ++j) {
          double direction = dist > 1e-12 ? (pa[j] - pb[j]) / dist : (j == (a + b) % latent ? 1.0 : 0.0);
          pa[j] += 0.5 * shortfall * direction;
          pb[j] -= 0.5 * shortfall * direction;
        }
      }
    if (!moved) break;
  }
  return std::vector<float>(x.begin(), x.end());
}

}  // namespace cvae

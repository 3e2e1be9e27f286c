// Lloyd's k-means driven through the Backend: seeding, assign, accumulate and update run where the
// points are; per iteration the host reads two counts (changed assignments, empty clusters) and
// re-seeds empty clusters itself. Used by the K-Means VAE (initial centroids from the untrained
// encoder, re-fit after every epoch from the previous centroids) and by the cluster metrics.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/backend/backend.h"

namespace cvae {

struct KMeansResult {
  std::vector<float> centroids;      // [k, dim]
  std::vector<int32_t> assignment;   // [n]
  int iterations = 0;
  bool converged = false;            // assignments stopped changing
  int empty_clusters_reseeded = 0;   // clusters that lost all points and were re-seeded
  double inertia = 0;                // Σ_i ‖p_i − c_{a_i}‖²
};

// k-means++ (Arthur & Vassilvitskii 2007): first centre uniform, each next one drawn with
// probability ∝ squared distance to the nearest centre so far (Backend::kmeans_plus_plus), on the
// backend's points [n, ld] (first dim used); returns the centres on the host. Throws when k > n.
std::vector<float> kmeans_plus_plus(Backend& backend, const float* points, int64_t n, int dim,
                                    int ld, int k, uint64_t seed);

// Lloyd iterations from `initial` until assignments stop changing or max_iterations.
// `points` are in backend memory. An empty cluster is re-seeded with the point farthest from its
// own centre (not already used to re-seed in that iteration), the usual remedy, and counted.
// Throws when k > n.
KMeansResult lloyd(Backend& backend, const float* points, int64_t n, int dim, int ld,
                   const std::vector<float>& initial, int k, int max_iterations);

// The nearest of k centres [k, dim] (host) for each of the backend's points [n, ld] (first dim
// used), the lowest index on ties: the K-Means VAE's clusters and a class prior's classifier.
std::vector<int32_t> assign_to_centres(Backend& backend, const float* points, int64_t n, int dim, int ld,
                                       const std::vector<float>& centres, int k);

// Best of `restarts` k-means++ seedings followed by Lloyd, by inertia (metrics).
KMeansResult kmeans_best_of(Backend& backend, const float* points, int64_t n, int dim, int ld,
                            int k, int restarts, int max_iterations, uint64_t seed);

}  // namespace cvae

#include "engine/kmeans.h"

#include <algorithm>
#include <limits>
#include <string>

#include "engine/error.h"
#include "engine/rng.h"

namespace cvae {

std::vector<float> kmeans_plus_plus(Backend& backend, const float* points, int64_t n, int dim,
                                    int ld, int k, uint64_t seed) {
  if (k < 1 || k > n)
    fail("k-means: K = " + std::to_string(k) + " clusters for " + std::to_string(n) + " points");
  Buffer centroids = backend.allocate(sizeof(float) * k * dim);
  backend.kmeans_plus_plus(points, static_cast<int>(n), dim, ld, k, seed, centroids.f32());
  std::vector<float> host(static_cast<size_t>(k) * dim);
  backend.download(host.data(), centroids.as<void>(), sizeof(float) * host.size());
  return host;
}

KMeansResult lloyd(Backend& backend, const float* points, int64_t n, int dim, int ld,
                   const std::vector<float>& initial, int k, int max_iterations) {
  if (k < 1 || k > n)
    fail("k-means: K = " + std::to_string(k) + " clusters for " + std::to_string(n) + " points");
  if (initial.size() != static_cast<size_t>(k) * dim) fail("k-means: initial centroids have the wrong size");
  Buffer centroids = backend.allocate(sizeof(float) * k * dim);
  Buffer assignment = backend.allocate(sizeof(int32_t) * n);
  Buffer distance = backend.allocate(sizeof(float) * n);
  Buffer sums = backend.allocate(sizeof(float) * k * dim);
  Buffer counts = backend.allocate(sizeof(float) * k);

  KMeansResult result;
  result.centroids = initial;
  std::vector<int32_t> previous(n, -1);
  std::vector<float> host_sums(static_cast<size_t>(k) * dim), host_counts(k), host_distance(n);
  std::vector<float> host_points_row(dim);
  result.assignment.assign(n, 0);

  for (int iteration = 0; iteration < max_iterations; ++iteration) {
    backend.upload(centroids.as<void>(), result.centroids.data(), sizeof(float) * k * dim);
    backend.lloyd_assign(points, static_cast<int>(n), dim, ld, centroids.f32(), k,
                         assignment.as<int32_t>(), distance.f32());
    backend.download(result.assignment.data(), assignment.as<void>(), sizeof(int32_t) * n);
    result.iterations = iteration + 1;
    if (result.assignment == previous) { result.converged = true; break; }
    previous = result.assignment;

    backend.lloyd_accumulate(points, static_cast<int>(n), dim, ld, assignment.as<int32_t>(), k,
                             sums.f32(), counts.f32());
    backend.download(host_sums.data(), sums.as<void>(), sizeof(float) * k * dim);
    backend.download(host_counts.data(), counts.as<void>(), sizeof(float) * k);
    bool any_empty = false;
    for (int c = 0; c < k; ++c) {
      if (host_counts[c] > 0) {
        for (int j = 0; j < dim; ++j)
          result.centroids[static_cast<size_t>(c) * dim + j] =
              host_sums[static_cast<size_t>(c) * dim + j] / host_counts[c];
      } else {
        any_empty = true;
      }
    }
    if (any_empty) {
      // Re-seed each empty cluster with the point farthest from its own centre.
      backend.download(host_distance.data(), distance.as<void>(), sizeof(float) * n);
      for (int c = 0; c < k; ++c) {
        if (host_counts[c] > 0) continue;
        int64_t far = std::max_element(host_distance.begin(), host_distance.end()) - host_distance.begin();
        backend.download(host_points_row.data(), points + far * ld, sizeof(float) * dim);
        std::copy(host_points_row.begin(), host_points_row.end(),
                  result.centroids.begin() + static_cast<size_t>(c) * dim);
        host_distance[far] = -1.0f;  // not used twice
        ++result.empty_clusters_reseeded;
      }
      previous.assign(n, -1);  // centres moved by hand: keep iterating
    }
  }
  // Final assignment and inertia against the final centroids.
  backend.upload(centroids.as<void>(), result.centroids.data(), sizeof(float) * k * dim);
  backend.lloyd_assign(points, static_cast<int>(n), dim, ld, centroids.f32(), k,
                       assignment.as<int32_t>(), distance.f32());
  backend.download(result.assignment.data(), assignment.as<void>(), sizeof(int32_t) * n);
  backend.download(host_distance.data(), distance.as<void>(), sizeof(float) * n);
  result.inertia = 0;
  for (float d : host_distance) result.inertia += d;
  return result;
}

KMeansResult kmeans_best_of(Backend& backend, const float* points, int64_t n, int dim, int ld,
                            int k, int restarts, int max_iterations, uint64_t seed) {
  KMeansResult best;
  for (int r = 0; r < restarts; ++r) {
    std::vector<float> initial = kmeans_plus_plus(backend, points, n, dim, ld, k, seed + r);
    KMeansResult result = lloyd(backend, points, n, dim, ld, initial, k, max_iterations);
    if (r == 0 || result.inertia < best.inertia) best = std::move(result);
  }
  return best;
}

}  // namespace cvae

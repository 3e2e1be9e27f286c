#include "engine/prior/kmeans.h"

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
  Buffer previous = backend.allocate(sizeof(int32_t) * n);
  Buffer distance = backend.allocate(sizeof(float) * n);
  Buffer sums = backend.allocate(sizeof(float) * k * dim);
  Buffer counts = backend.allocate(sizeof(float) * k);
  Buffer status = backend.allocate(2 * sizeof(int32_t));  // [changed assignments, empty clusters]
  const std::vector<int32_t> none(n, -1);                 // "no previous assignment"

  KMeansResult result;
  result.centroids = initial;
  backend.upload(centroids.as<void>(), initial.data(), sizeof(float) * k * dim);
  backend.upload(previous.as<void>(), none.data(), sizeof(int32_t) * n);
  std::vector<float> host_counts(k), host_distance;
  std::vector<float> host_points_row(dim);

  // One iteration: assign, count the changed assignments, accumulate and update — all on the
  // backend; the host reads the two counts (one small read). When nothing changed the update
  // recomputed the same centroids from the same sums, so stopping after it is stopping before it.
  for (int iteration = 0; iteration < max_iterations; ++iteration) {
    backend.lloyd_assign(points, static_cast<int>(n), dim, ld, centroids.f32(), k,
                         assignment.as<int32_t>(), distance.f32());
    backend.lloyd_count_changes(assignment.as<int32_t>(), previous.as<int32_t>(),
                                static_cast<int>(n), status.as<int32_t>());
    backend.lloyd_accumulate(points, static_cast<int>(n), dim, ld, assignment.as<int32_t>(), k,
                             sums.f32(), counts.f32());
    backend.lloyd_update(sums.f32(), counts.f32(), k, dim, centroids.f32(), status.as<int32_t>());
    int32_t host_status[2];
    backend.download(host_status, status.as<void>(), sizeof host_status);
    result.iterations = iteration + 1;
    if (host_status[0] == 0) { result.converged = true; break; }
    if (host_status[1] > 0) {
      // Re-seed each empty cluster with the point farthest from its own centre (the distances of
      // this iteration's assignment), on the host: rare, and the order of choices matters.
      backend.download(result.centroids.data(), centroids.as<void>(), sizeof(float) * k * dim);
      backend.download(host_counts.data(), counts.as<void>(), sizeof(float) * k);
      host_distance.resize(n);
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
      backend.upload(centroids.as<void>(), result.centroids.data(), sizeof(float) * k * dim);
      backend.upload(previous.as<void>(), none.data(), sizeof(int32_t) * n);  // keep iterating
    }
  }
  // Final assignment and inertia against the final centroids.
  backend.download(result.centroids.data(), centroids.as<void>(), sizeof(float) * k * dim);
  backend.lloyd_assign(points, static_cast<int>(n), dim, ld, centroids.f32(), k,
                       assignment.as<int32_t>(), distance.f32());
  result.assignment.resize(n);
  host_distance.resize(n);
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

std::vector<int32_t> assign_to_centres(Backend& backend, const float* points, int64_t n, int dim, int ld,
                                       const std::vector<float>& centres, int k) {
  if (centres.size() != static_cast<size_t>(k) * dim)
    fail("assign_to_centres: " + std::to_string(centres.size()) + " centre values for k = " + std::to_string(k) +
         " centres of " + std::to_string(dim) + " dimensions");
  Buffer device_centres = backend.allocate(sizeof(float) * centres.size());
  backend.upload(device_centres.as<void>(), centres.data(), sizeof(float) * centres.size());
  Buffer nearest = backend.allocate(sizeof(int32_t) * n);
  backend.lloyd_assign(points, static_cast<int>(n), dim, ld, device_centres.f32(), k, nearest.as<int32_t>(), nullptr);
  std::vector<int32_t> assignment(n);
  backend.download(assignment.data(), nearest.as<void>(), sizeof(int32_t) * n);
  return assignment;
}

}  // namespace cvae

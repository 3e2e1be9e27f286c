// Lloyd's k-means through the Backend: separable clusters are found, empty clusters are re-seeded
// and counted, K > N is refused; points go to their nearest given centre.
#include <catch2/catch.hpp>

#include <set>

#include "engine/backend/cpu/cpu_backend.h"
#include "engine/error.h"
#include "engine/eval/cluster_scores.h"
#include "engine/eval/linear_probe.h"
#include "engine/prior/kmeans.h"
#include "tests/test_helpers.h"

using namespace cvae;

namespace {

// n points around each of the given centres (uniform noise ±0.5), with ld > dim.
std::vector<float> blobs(const std::vector<std::vector<float>>& centres, int per, int ld,
                         std::vector<int32_t>& truth) {
  int dim = static_cast<int>(centres[0].size());
  std::vector<double> noise = test::random_values(centres.size() * per * dim, 99, -0.5, 0.5);
  std::vector<float> points(centres.size() * per * ld, 1e30f);  // padding must never be read
  size_t row = 0;
  for (size_t c = 0; c < centres.size(); ++c)
    for (int i = 0; i < per; ++i, ++row) {
      for (int j = 0; j < dim; ++j) points[row * ld + j] = centres[c][j] + static_cast<float>(noise[row * dim + j]);
      truth.push_back(static_cast<int32_t>(c));
    }
  return points;
}

}  // namespace

TEST_CASE("k-means++ and Lloyd recover well-separated clusters exactly", "[kmeans]") {
  CpuBackend backend(1);
  std::vector<int32_t> truth;
  std::vector<float> points = blobs({{0, 0, 0}, {10, 0, 0}, {0, 10, 0}, {0, 0, 10}}, 50, 5, truth);
  KMeansResult fit = kmeans_best_of(backend, points.data(), 200, 3, 5, 4, 3, 100, 7);
  REQUIRE(fit.converged);
  REQUIRE(fit.empty_clusters_reseeded == 0);
  REQUIRE(cluster_accuracy_hungarian(fit.assignment, truth, 4, 4) == 1.0);
  // each centroid sits at its blob's mean: within the noise of 50 points
  for (int c = 0; c < 4; ++c) {
    float norm = 0;
    for (int j = 0; j < 3; ++j) norm += fit.centroids[c * 3 + j];
    REQUIRE(std::fabs(norm - (norm > 5 ? 10.0f : 0.0f)) < 0.3f);
  }
}

TEST_CASE("an empty cluster is re-seeded with the farthest point and counted", "[kmeans]") {
  CpuBackend backend(1);
  std::vector<int32_t> truth;
  std::vector<float> points = blobs({{0, 0}, {10, 10}}, 30, 2, truth);
  // the third centroid starts far from everything, so it receives no point in the first step
  std::vector<float> initial = {0, 0, 10, 10, 1000, -1000};
  KMeansResult fit = lloyd(backend, points.data(), 60, 2, 2, initial, 3, 100);
  REQUIRE(fit.empty_clusters_reseeded >= 1);
  std::set<int32_t> used(fit.assignment.begin(), fit.assignment.end());
  REQUIRE(used.size() == 3);  // after re-seeding, all three clusters hold points
  REQUIRE(fit.centroids[4] < 100.0f);
}

TEST_CASE("k-means refuses more clusters than points", "[kmeans]") {
  CpuBackend backend(1);
  std::vector<float> points = {0, 1, 2};
  REQUIRE_THROWS_AS(kmeans_plus_plus(backend, points.data(), 3, 1, 1, 4, 1), Error);
  REQUIRE_THROWS_AS(lloyd(backend, points.data(), 3, 1, 1, std::vector<float>(4), 4, 10), Error);
}

TEST_CASE("k-means with K = 1 puts the centroid at the mean", "[kmeans]") {
  CpuBackend backend(1);
  std::vector<float> points = {1, 2, 3, 10};
  KMeansResult fit = lloyd(backend, points.data(), 4, 1, 1, {0.0f}, 1, 10);
  REQUIRE(fit.centroids[0] == Approx(4.0f));
  REQUIRE(fit.inertia == Approx(9 + 4 + 1 + 36));
}

TEST_CASE("assign_to_centres gives each point its nearest centre, the lowest on a tie", "[kmeans]") {
  CpuBackend backend(1);
  const int dim = 3, ld = 4, n = 40, k = 5;
  std::vector<float> points = test::random_floats(static_cast<size_t>(n) * ld, 11, -4, 4);
  std::vector<float> centres = test::random_floats(static_cast<size_t>(k) * dim, 12, -4, 4);
  // centre 3 repeats centre 1, so every point near it has a tie, which goes to 1; point 0 sits on it
  for (int j = 0; j < dim; ++j) centres[3 * dim + j] = centres[1 * dim + j];
  for (int j = 0; j < dim; ++j) points[j] = centres[1 * dim + j];
  Buffer device_points = backend.allocate(sizeof(float) * points.size());
  backend.upload(device_points.as<void>(), points.data(), sizeof(float) * points.size());
  const std::vector<int32_t> nearest = assign_to_centres(backend, device_points.f32(), n, dim, ld, centres, k);
  REQUIRE(nearest.size() == static_cast<size_t>(n));
  auto distance = [&](int i, int c) {
    double d = 0;
    for (int j = 0; j < dim; ++j) {
      const double diff = static_cast<double>(points[i * ld + j]) - centres[c * dim + j];
      d += diff * diff;
    }
    return d;
  };
  for (int i = 0; i < n; ++i) {
    INFO("point " << i << " went to centre " << nearest[i]);
    REQUIRE(nearest[i] != 3);
    for (int c = 0; c < k; ++c) REQUIRE(distance(i, nearest[i]) <= distance(i, c) * (1 + 1e-6) + 1e-9);
  }
  REQUIRE(nearest[0] == 1);
  REQUIRE_THROWS_WITH(assign_to_centres(backend, device_points.f32(), n, dim, ld, centres, k + 1),
                      Catch::StartsWith("assign_to_centres: 15 centre values for k = 6"));
}

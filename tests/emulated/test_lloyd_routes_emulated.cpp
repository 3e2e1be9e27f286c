// The k-means kernels beyond the direct Lloyd iteration, compiled against the CUDA emulation and
// checked against the CPU reference:
//   - k-means++ seeding (kernels/kmeans_plus_plus.cu) picks exactly the CPU's points, within one
//     chunk and across many, for K = 1, K = n and points that all coincide (the draw with Σ D = 0),
//     and where the running sum crosses the target at the edges of the choose warp's work: a
//     group's last lane, a partial last group, a chunk's first row, either pass over the chunks;
//   - the GEMM route of the assignment (kernels/lloyd.cu: squared_norms + lloyd_assign_from_dots,
//     with the dot products a GEMM would give) assigns as the direct route wherever the two nearest
//     centroids are not within rounding of each other, keeps the lowest index on an exact tie, and
//     writes the directly computed distance (tolerance (dim + 4)·ε relative, the float sum bound).
#include "kernels/kernels.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/backend/cpu/kmeans_plus_plus.h"
#include "engine/backend/cpu/lloyd.h"
#include "engine/backend/cpu/lloyd_update.h"
#include "tests/test_helpers.h"
#include "tests/tolerance.h"

using namespace cvae;
using cvae::test::check_close;
using cvae::test::check_exact;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr double kEps = test::kFloatEps;
cudaStream_t const kStream = nullptr;

using test::random_floats;

}  // namespace

TEST_CASE("emulated k-means++ picks exactly the CPU's points, across chunks, K = 1 and K = n",
          "[emulated][kmeans]") {
  for (int n : {1, 5, 300, 1000, 2600}) {
    for (int dim : {1, 3, 20}) {
      for (int k : {1, 4, 12, n}) {
        if (k > n || k > 40) continue;
        CAPTURE(n, dim, k);
        const int ld = dim + 2;
        std::vector<float> points = random_floats(size_t(n) * ld, 80 + n, -3, 3);
        std::vector<float> centres(size_t(k) * dim + 1, kNaN), ref = centres;
        std::vector<double> scratch(size_t(kernels::kmeans_plus_plus_scratch_doubles(n)) + 1,
                                    std::numeric_limits<double>::quiet_NaN());
        kernels::kmeans_plus_plus(points.data(), n, dim, ld, k, 17, centres.data(), scratch.data(),
                                  kStream);
        cpu::kmeans_plus_plus(points.data(), n, dim, ld, k, 17, ref.data());
        check_exact(centres, ref, "centres");
        // every centre is a point, and no point is drawn twice while others are left
        for (int c = 0; c < k; ++c) {
          bool found = false;
          for (int i = 0; i < n && !found; ++i)
            found = std::equal(points.begin() + size_t(i) * ld, points.begin() + size_t(i) * ld + dim,
                               centres.begin() + size_t(c) * dim);
          REQUIRE(found);
          for (int other = 0; other < c; ++other)
            REQUIRE_FALSE(std::equal(centres.begin() + size_t(c) * dim,
                                     centres.begin() + size_t(c + 1) * dim,
                                     centres.begin() + size_t(other) * dim));
        }
      }
    }
  }
}

TEST_CASE("emulated k-means++ on coinciding points draws uniformly, as the CPU", "[emulated][kmeans]") {
  const int n = 400, dim = 3, k = 5;
  std::vector<float> points(size_t(n) * dim);
  for (int i = 0; i < n; ++i) points[size_t(i) * dim + (i % 2)] = 1.5f;  // two distinct points only
  std::vector<float> centres(size_t(k) * dim + 1, kNaN), ref = centres;
  std::vector<double> scratch(size_t(kernels::kmeans_plus_plus_scratch_doubles(n)));
  kernels::kmeans_plus_plus(points.data(), n, dim, dim, k, 3, centres.data(), scratch.data(), kStream);
  cpu::kmeans_plus_plus(points.data(), n, dim, dim, k, 3, ref.data());
  check_exact(centres, ref, "centres");
}

TEST_CASE("emulated k-means++ picks the CPU's point where the sum crosses on a group's last lane, "
          "in a partial last group and across chunks",
          "[emulated][kmeans]") {
  // 8,500 points: 34 chunks of 256 rows (row_chunks_for), the last of 52 rows, so its second
  // group of 32 has 20; and 34 chunk totals, two more than one pass of the warp over them.
  const int n = 8500, dim = 2, ld = 3, k = 3;
  REQUIRE(kernels::row_chunks_for(n).rows_per_chunk == 256);
  REQUIRE(kernels::row_chunks_for(n).count == 34);
  // rows: a chunk's first row (a chunk boundary), a group's last lane and the next group's first,
  // a full chunk's last row, chunk 31 (the last lane of the warp's first pass over the chunk
  // totals) and chunks 32 and 33 (its second pass), the partial last group's first row and the
  // last row of all
  for (int64_t s : {int64_t(0), int64_t(31), int64_t(32), int64_t(255), int64_t(256), int64_t(287),
                    int64_t(31 * 256 + 31), int64_t(32 * 256), int64_t(32 * 256 + 63),
                    int64_t(33 * 256 + 31), int64_t(33 * 256 + 32), int64_t(n - 1)}) {
    CAPTURE(s);
    // Every point within [-1, 1]² but p_s, far out: its D (~2·10⁶) outweighs all the others
    // together (< 8n), so centre 1 is p_s whenever u₁ lies within (0.1, 0.9) and centre 0 is
    // another point. The first seed for which both hold:
    uint64_t seed = 1;
    for (;; ++seed) {
      const RngPosition at{seed, RngStream::kmeans_init, 0};
      const double u1 = uniform_at(at, 1, 0);
      if (int64_t(uniform_at(at, 0, 0) * n) != s && u1 > 0.1 && u1 < 0.9) break;
    }
    std::vector<float> points = random_floats(size_t(n) * ld, 81, -1, 1);
    points[size_t(s) * ld] = 1000.0f;
    points[size_t(s) * ld + 1] = -1000.0f;
    std::vector<float> centres(size_t(k) * dim + 1, kNaN), ref = centres;
    std::vector<double> scratch(size_t(kernels::kmeans_plus_plus_scratch_doubles(n)));
    kernels::kmeans_plus_plus(points.data(), n, dim, ld, k, seed, centres.data(), scratch.data(),
                              kStream);
    cpu::kmeans_plus_plus(points.data(), n, dim, ld, k, seed, ref.data());
    REQUIRE(ref[dim] == 1000.0f);  // the CPU took p_s as centre 1: the case is the one meant
    REQUIRE(ref[dim + 1] == -1000.0f);
    check_exact(centres, ref, "centres");
  }
}

TEST_CASE("emulated GEMM-route assignment agrees with the direct route, lowest index on exact ties",
          "[emulated][lloyd]") {
  // (small sizes: every warp shuffle is a barrier for 32 fibers under the emulation)
  for (int n : {1, 7, 130, 300}) {
    for (int dim : {1, 3, 33}) {
      for (int k : {1, 10, 37, 70}) {
        CAPTURE(n, dim, k);
        const int ld = dim + 3;
        std::vector<float> points = random_floats(size_t(n) * ld, 90, -3, 3);
        std::vector<float> centroids = random_floats(size_t(k) * dim, 91, -3, 3);
        if (k >= 10) {  // centroid 7 duplicates centroid 4, and point 0 sits on it
          std::copy(centroids.begin() + 4 * dim, centroids.begin() + 5 * dim, centroids.begin() + 7 * dim);
          std::copy(centroids.begin() + 4 * dim, centroids.begin() + 5 * dim, points.begin());
        }
        // the dot products a GEMM gives, each rounded once to float
        std::vector<float> dots(size_t(n) * k);
        for (int i = 0; i < n; ++i)
          for (int c = 0; c < k; ++c) {
            double s = 0;
            for (int j = 0; j < dim; ++j) s += double(points[size_t(i) * ld + j]) * centroids[size_t(c) * dim + j];
            dots[size_t(i) * k + c] = float(s);
          }
        std::vector<float> norms(k + 1, kNaN);
        kernels::squared_norms(centroids.data(), k, dim, dim, norms.data(), kStream);
        REQUIRE(std::isnan(norms[k]));
        std::vector<int32_t> assignment(n + 1, -7), ref_assignment = assignment;
        std::vector<float> distance(n + 1, kNaN), ref_distance = distance;
        kernels::lloyd_assign_from_dots(dots.data(), n, k, points.data(), dim, ld, centroids.data(),
                                        norms.data(), assignment.data(), distance.data(), kStream);
        cpu::lloyd_assign<float>(points.data(), n, dim, ld, centroids.data(), k, ref_assignment.data(),
                                 ref_distance.data());
        REQUIRE(assignment[n] == -7);
        REQUIRE(std::isnan(distance[n]));
        if (k >= 10) REQUIRE(assignment[0] == 4);
        int compared = 0;
        for (int i = 0; i < n; ++i) {
          // exact distances, to tell a real winner from a near-tie
          std::vector<double> exact(k);
          double scale = 0;
          for (int c = 0; c < k; ++c) {
            double d = 0;
            for (int j = 0; j < dim; ++j) {
              const double diff = double(points[size_t(i) * ld + j]) - centroids[size_t(c) * dim + j];
              d += diff * diff;
              scale += double(points[size_t(i) * ld + j]) * points[size_t(i) * ld + j];
            }
            exact[c] = d;
          }
          const int winner = int(std::min_element(exact.begin(), exact.end()) - exact.begin());
          double runner_up = std::numeric_limits<double>::infinity();
          for (int c = 0; c < k; ++c)
            if (c != winner && exact[c] != exact[winner]) runner_up = std::min(runner_up, exact[c]);
          // the scores' rounding: a few ulps of ‖p‖² + ‖c‖² (and of 2|p·c|)
          const double margin = 64 * kEps * (scale / k + 9.0 * dim + 1.0);
          if (runner_up - exact[winner] > margin) {
            REQUIRE(assignment[i] == ref_assignment[i]);
            ++compared;
          }
          const int a = assignment[i];
          REQUIRE(a >= 0);
          REQUIRE(a < k);
          REQUIRE(exact[a] - exact[winner] <= margin);
        }
        REQUIRE(compared >= n * 9 / 10);
        // the distance is the direct one of the chosen centroid
        for (int i = 0; i < n; ++i) {
          if (assignment[i] != ref_assignment[i]) continue;
          REQUIRE(std::fabs(double(distance[i]) - ref_distance[i]) <=
                  1e-6 + (dim + 4) * kEps * std::fabs(double(ref_distance[i])));
        }
        if (k == 37) {  // without distances: the same assignments
          std::vector<int32_t> only(n, -7);
          kernels::lloyd_assign_from_dots(dots.data(), n, k, points.data(), dim, ld, centroids.data(),
                                          norms.data(), only.data(), nullptr, kStream);
          REQUIRE(std::vector<int32_t>(assignment.begin(), assignment.end() - 1) == only);
        }
      }
    }
  }
}

TEST_CASE("emulated Lloyd update and change count equal the CPU's, with an empty cluster and no change",
          "[emulated][lloyd]") {
  for (int n : {0, 1, 300, 2000}) {
    for (int k : {1, 3, 40}) {
      for (int dim : {1, 20}) {
        CAPTURE(n, k, dim);
        // change count: about a third of the assignments differ from `previous`
        std::vector<int32_t> assignment = test::random_ints(n, 100, k);
        std::vector<int32_t> previous = assignment;
        for (int i = 0; i < n; i += 3) previous[i] = (previous[i] + 1) % (k + 1);
        std::vector<int32_t> ref_previous = previous;
        std::vector<int32_t> status{-5, -5}, ref_status{-5, -5};
        kernels::lloyd_count_changes(assignment.data(), previous.data(), n, status.data(), kStream);
        cpu::lloyd_count_changes(assignment.data(), ref_previous.data(), n, ref_status.data());
        REQUIRE(status[0] == ref_status[0]);
        REQUIRE(status[1] == -5);  // the other count is left alone
        REQUIRE(previous == assignment);
        kernels::lloyd_count_changes(assignment.data(), previous.data(), n, status.data(), kStream);
        REQUIRE(status[0] == 0);  // nothing changed the second time

        // update: cluster k−1 empty (when k > 1): it keeps its centroid
        std::vector<float> sums = random_floats(size_t(k) * dim, 101, -50, 50);
        std::vector<float> counts(k);
        for (int c = 0; c < k; ++c) counts[c] = float(1 + (c * 7) % 13);
        if (k > 1) counts[k - 1] = 0.0f;
        std::vector<float> centroids = random_floats(size_t(k) * dim + 1, 102, -3, 3);
        centroids.back() = kNaN;  // beyond the last centroid: untouched
        std::vector<float> ref_centroids = centroids;
        kernels::lloyd_update(sums.data(), counts.data(), k, dim, centroids.data(), status.data(), kStream);
        cpu::lloyd_update(sums.data(), counts.data(), k, dim, ref_centroids.data(), ref_status.data());
        check_exact(centroids, ref_centroids, "centroids");
        REQUIRE(status[1] == ref_status[1]);
        REQUIRE(status[1] == (k > 1 ? 1 : 0));
        REQUIRE(status[0] == 0);
      }
    }
  }
}

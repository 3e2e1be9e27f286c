// Evaluation metrics (engine/metrics): Hungarian assignment against brute force, cluster accuracy
// (majority vs one-to-one), NMI against hand-computed values and its limits, argmax accuracy with
// ties, and the linear probe on separable, random and rescaled data. Random inputs come from seeds.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/eval/cluster_scores.h"
#include "engine/eval/linear_probe.h"

namespace {

// The message of the cvae::Error that f throws, or "" when it throws none.
template <typename F>
std::string error_message(F f) {
  try {
    f();
  } catch (const cvae::Error& error) {
    return error.what();
  }
  return "";
}

double assignment_cost(const std::vector<double>& cost, int cols, const std::vector<int>& assignment) {
  double total = 0.0;
  for (size_t row = 0; row < assignment.size(); ++row)
    if (assignment[row] >= 0) total += cost[row * cols + assignment[row]];
  return total;
}

// Minimum over every matching of min(rows, cols) pairs: permute max(rows, cols) slots, row r takes
// slot perm[r] when it is a real column.
double brute_force_min_cost(const std::vector<double>& cost, int rows, int cols) {
  const int n = std::max(rows, cols);
  std::vector<int> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  double best = INFINITY;
  do {
    double total = 0.0;
    for (int row = 0; row < rows; ++row)
      if (perm[row] < cols) total += cost[static_cast<size_t>(row) * cols + perm[row]];
    best = std::min(best, total);
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}

// Every row gets a distinct real column or -1, and exactly min(rows, cols) rows are assigned.
void check_is_matching(const std::vector<int>& assignment, int rows, int cols) {
  REQUIRE(static_cast<int>(assignment.size()) == rows);
  std::vector<int> taken(cols, 0);
  int assigned = 0;
  for (int col : assignment) {
    REQUIRE(col >= -1);
    REQUIRE(col < cols);
    if (col >= 0) {
      REQUIRE(taken[col] == 0);
      taken[col] = 1;
      ++assigned;
    }
  }
  REQUIRE(assigned == std::min(rows, cols));
}

std::vector<int32_t> random_labels(std::mt19937& rng, size_t n, int classes) {
  std::uniform_int_distribution<int32_t> pick(0, classes - 1);
  std::vector<int32_t> labels(n);
  for (int32_t& label : labels) label = pick(rng);
  return labels;
}

// n points of `classes` Gaussian blobs in `dim` dims (unit variance), class c centred at
// separation · e_c; rows have leading dimension ld and the columns past dim hold `filler`.
void gaussian_blobs(std::mt19937& rng, int64_t n, int dim, int ld, int classes, double separation, float filler,
                    std::vector<float>& x, std::vector<int32_t>& y) {
  std::normal_distribution<double> noise(0.0, 1.0);
  y = random_labels(rng, static_cast<size_t>(n), classes);
  x.assign(static_cast<size_t>(n) * ld, filler);
  for (int64_t i = 0; i < n; ++i)
    for (int j = 0; j < dim; ++j)
      x[i * ld + j] = static_cast<float>(noise(rng) + (j == y[i] ? separation : 0.0));
}

}  // namespace

// ---- Hungarian assignment ---------------------------------------------------------------------

TEST_CASE("hungarian_min_cost finds the unique optimum of a known 3x3 matrix", "[metrics]") {
  // Optimum 1 + 2 + 2 = 5 with rows -> columns (1, 0, 2); every other permutation costs >= 6.
  const std::vector<double> cost = {4, 1, 3,  //
                                    2, 0, 5,  //
                                    3, 2, 2};
  const std::vector<int> assignment = cvae::hungarian_min_cost(cost, 3, 3);
  REQUIRE(assignment == std::vector<int>{1, 0, 2});
  REQUIRE(assignment_cost(cost, 3, assignment) == 5.0);
}

TEST_CASE("hungarian_min_cost handles negative costs (maximisation by negation)", "[metrics]") {
  const std::vector<double> cost = {-10, -1, -1,  //
                                    -1, -1, -10,  //
                                    -1, -10, -1};
  REQUIRE(cvae::hungarian_min_cost(cost, 3, 3) == std::vector<int>{0, 2, 1});
}

TEST_CASE("hungarian_min_cost on rectangular matrices assigns min(rows, cols) rows and leaves -1", "[metrics]") {
  SECTION("2x3: both rows assigned, one column unused") {
    const std::vector<double> cost = {5, 1, 9,  //
                                      1, 2, 9};
    REQUIRE(cvae::hungarian_min_cost(cost, 2, 3) == std::vector<int>{1, 0});
  }
  SECTION("3x2: the most expensive row is left unassigned") {
    const std::vector<double> cost = {1, 8,  //
                                      9, 9,  //
                                      7, 2};
    REQUIRE(cvae::hungarian_min_cost(cost, 3, 2) == std::vector<int>{0, -1, 1});
  }
  SECTION("empty shapes give no assignment") {
    REQUIRE(cvae::hungarian_min_cost({}, 0, 4).empty());
    REQUIRE(cvae::hungarian_min_cost({}, 3, 0) == std::vector<int>{-1, -1, -1});
  }
}

TEST_CASE("hungarian_min_cost matches brute force over all permutations on seeded random 6x6 matrices",
          "[metrics]") {
  std::mt19937 rng(20240611);
  std::uniform_real_distribution<double> uniform(-5.0, 10.0);
  std::uniform_int_distribution<int> small_integer(0, 3);  // many ties
  for (int trial = 0; trial < 60; ++trial) {
    std::vector<double> cost(36);
    for (double& c : cost) c = trial % 2 == 0 ? uniform(rng) : small_integer(rng);
    const std::vector<int> assignment = cvae::hungarian_min_cost(cost, 6, 6);
    check_is_matching(assignment, 6, 6);
    REQUIRE(assignment_cost(cost, 6, assignment) == Approx(brute_force_min_cost(cost, 6, 6)).margin(1e-9));
  }
}

TEST_CASE("hungarian_min_cost matches brute force on seeded random rectangular matrices", "[metrics]") {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> uniform(0.0, 100.0);
  const int shapes[][2] = {{4, 6}, {6, 4}, {1, 5}, {5, 1}, {3, 7}, {7, 3}};
  for (const auto& shape : shapes) {
    for (int trial = 0; trial < 10; ++trial) {
      const int rows = shape[0], cols = shape[1];
      std::vector<double> cost(static_cast<size_t>(rows) * cols);
      for (double& c : cost) c = uniform(rng);
      const std::vector<int> assignment = cvae::hungarian_min_cost(cost, rows, cols);
      check_is_matching(assignment, rows, cols);
      REQUIRE(assignment_cost(cost, cols, assignment) ==
              Approx(brute_force_min_cost(cost, rows, cols)).margin(1e-9));
    }
  }
}

TEST_CASE("hungarian_min_cost rejects a wrong-sized or non-finite cost matrix", "[metrics]") {
  REQUIRE(error_message([] { cvae::hungarian_min_cost({1, 2, 3}, 2, 2); }).find("hungarian_min_cost") == 0);
  REQUIRE(error_message([] { cvae::hungarian_min_cost({1, NAN, 3, 4}, 2, 2); }).find("not finite") !=
          std::string::npos);
  REQUIRE(error_message([] { cvae::hungarian_min_cost({}, -1, 2); }).find("hungarian_min_cost") == 0);
}

// ---- Cluster accuracy -------------------------------------------------------------------------

TEST_CASE("majority and Hungarian cluster accuracy differ when two clusters share one label", "[metrics]") {
  // Cluster 0: four points of label 0. Cluster 1: three of label 0, one of label 2.
  // Cluster 2: four points of label 1.
  // Majority maps clusters 0 and 1 both to label 0: (4 + 3 + 4) / 12.
  // One-to-one must send cluster 1 to label 2: (4 + 1 + 4) / 12.
  const std::vector<int32_t> clusters = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2};
  const std::vector<int32_t> labels = {0, 0, 0, 0, 0, 0, 0, 2, 1, 1, 1, 1};
  REQUIRE(cvae::cluster_accuracy_majority(clusters, labels, 3, 3) == Approx(11.0 / 12.0));
  REQUIRE(cvae::cluster_accuracy_hungarian(clusters, labels, 3, 3) == Approx(9.0 / 12.0));
}

TEST_CASE("Hungarian cluster accuracy counts clusters left without a label as wrong (k > classes)",
          "[metrics]") {
  // Four clusters, two classes: only two clusters get a label; the best are clusters 0 (3 of label 0)
  // and 3 (3 of label 1). Clusters 1 and 2 (two points each) count as wrong: 6 / 10.
  const std::vector<int32_t> clusters = {0, 0, 0, 1, 1, 2, 2, 3, 3, 3};
  const std::vector<int32_t> labels = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1};
  REQUIRE(cvae::cluster_accuracy_hungarian(clusters, labels, 4, 2) == Approx(6.0 / 10.0));
  REQUIRE(cvae::cluster_accuracy_majority(clusters, labels, 4, 2) == Approx(1.0));
}

TEST_CASE("cluster accuracy is 1 for identical partitions up to relabelling, with empty clusters", "[metrics]") {
  std::mt19937 rng(11);
  const std::vector<int32_t> labels = random_labels(rng, 1000, 5);
  const std::vector<int32_t> cluster_of_label = {6, 2, 0, 4, 1};  // k = 7: clusters 3 and 5 stay empty
  std::vector<int32_t> clusters(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) clusters[i] = cluster_of_label[labels[i]];
  REQUIRE(cvae::cluster_accuracy_majority(clusters, labels, 7, 5) == 1.0);
  REQUIRE(cvae::cluster_accuracy_hungarian(clusters, labels, 7, 5) == 1.0);
  REQUIRE(cvae::normalized_mutual_information(clusters, labels, 7, 5) == Approx(1.0).epsilon(1e-12));
}

TEST_CASE("Hungarian cluster accuracy equals the best of all one-to-one mappings and never exceeds majority",
          "[metrics]") {
  std::mt19937 rng(31337);
  for (int trial = 0; trial < 20; ++trial) {
    const int k = 5, classes = 5;
    // Correlated partitions: the cluster is the label, shifted, half of the time.
    const std::vector<int32_t> labels = random_labels(rng, 300, classes);
    std::vector<int32_t> clusters = random_labels(rng, 300, k);
    std::bernoulli_distribution keep(0.5);
    for (size_t i = 0; i < labels.size(); ++i)
      if (keep(rng)) clusters[i] = (labels[i] + trial) % k;

    std::vector<int> perm(k);
    std::iota(perm.begin(), perm.end(), 0);
    int64_t best = 0;
    do {
      int64_t correct = 0;
      for (size_t i = 0; i < labels.size(); ++i) correct += perm[clusters[i]] == labels[i];
      best = std::max(best, correct);
    } while (std::next_permutation(perm.begin(), perm.end()));

    const double hungarian = cvae::cluster_accuracy_hungarian(clusters, labels, k, classes);
    REQUIRE(hungarian == Approx(static_cast<double>(best) / labels.size()));
    REQUIRE(hungarian <= cvae::cluster_accuracy_majority(clusters, labels, k, classes));
  }
}

TEST_CASE("cluster metrics reject mismatched sizes, non-positive k or classes, and out-of-range values",
          "[metrics]") {
  const std::vector<int32_t> three = {0, 1, 2}, two = {0, 1};
  REQUIRE(error_message([&] { cvae::cluster_accuracy_majority(three, two, 3, 3); })
              .find("cluster_accuracy_majority") == 0);
  REQUIRE(error_message([&] { cvae::cluster_accuracy_hungarian(three, three, 0, 3); }).find("k must be") !=
          std::string::npos);
  REQUIRE(error_message([&] { cvae::normalized_mutual_information(three, three, 3, 0); })
              .find("classes must be") != std::string::npos);
  REQUIRE(error_message([&] { cvae::cluster_accuracy_hungarian(three, three, 2, 3); }).find("cluster 2") !=
          std::string::npos);
  REQUIRE(error_message([&] { cvae::normalized_mutual_information(three, {0, 1, -1}, 3, 3); })
              .find("label -1") != std::string::npos);
  REQUIRE(error_message([&] { cvae::cluster_accuracy_majority({}, {}, 3, 3); }).find("no points") !=
          std::string::npos);
}

// ---- NMI --------------------------------------------------------------------------------------

TEST_CASE("NMI matches a hand-computed value on a four-point case", "[metrics]") {
  // U = {0,0,1,1}, V = {0,0,0,1}. H(U) = ln 2; H(V) = −(3/4 ln 3/4 + 1/4 ln 1/4);
  // I = 1/2 ln(4·2/(2·3)) + 1/4 ln(4·1/(2·3)) + 1/4 ln(4·1/(2·1)).
  const double h_u = std::log(2.0);
  const double h_v = -(0.75 * std::log(0.75) + 0.25 * std::log(0.25));
  const double mi = 0.5 * std::log(4.0 / 3.0) + 0.25 * std::log(2.0 / 3.0) + 0.25 * std::log(2.0);
  const double expected = mi / (0.5 * (h_u + h_v));
  REQUIRE(expected == Approx(0.3437110184854508).epsilon(1e-14));  // the same number, written out
  const double nmi = cvae::normalized_mutual_information({0, 0, 1, 1}, {0, 0, 0, 1}, 2, 2);
  REQUIRE(nmi == Approx(expected).epsilon(1e-12));
  REQUIRE(cvae::normalized_mutual_information({0, 0, 0, 1}, {0, 0, 1, 1}, 2, 2) == Approx(expected).epsilon(1e-12));
}

TEST_CASE("NMI is about 0 for large independent random partitions", "[metrics]") {
  // The bias of the plug-in MI is about (k−1)(c−1)/(2n) = 81/400000 nats against H ≈ ln 10.
  std::mt19937 rng(424242);
  const std::vector<int32_t> clusters = random_labels(rng, 200000, 10);
  const std::vector<int32_t> labels = random_labels(rng, 200000, 10);
  const double nmi = cvae::normalized_mutual_information(clusters, labels, 10, 10);
  REQUIRE(nmi >= 0.0);
  REQUIRE(nmi < 1e-3);
}

TEST_CASE("NMI is symmetric and lies in [0, 1] on seeded random correlated partitions", "[metrics]") {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 10; ++trial) {
    const std::vector<int32_t> labels = random_labels(rng, 500, 4);
    std::vector<int32_t> clusters = random_labels(rng, 500, 6);
    for (size_t i = 0; i < labels.size(); i += 2) clusters[i] = labels[i];
    const double forward = cvae::normalized_mutual_information(clusters, labels, 6, 4);
    const double backward = cvae::normalized_mutual_information(labels, clusters, 4, 6);
    REQUIRE(forward == Approx(backward).epsilon(1e-12));
    REQUIRE(forward > 0.0);
    REQUIRE(forward < 1.0);
  }
}

TEST_CASE("NMI is 1 when both partitions have one part and 0 when exactly one has", "[metrics]") {
  REQUIRE(cvae::normalized_mutual_information({0, 0, 0}, {2, 2, 2}, 1, 3) == 1.0);
  REQUIRE(cvae::normalized_mutual_information({0, 0, 0, 0}, {0, 1, 0, 1}, 1, 2) == 0.0);
  REQUIRE(cvae::normalized_mutual_information({3, 1, 3, 1}, {0, 0, 0, 0}, 4, 1) == 0.0);
}

// ---- Argmax accuracy --------------------------------------------------------------------------

TEST_CASE("argmax accuracy breaks ties to the lowest index and ignores columns past classes", "[metrics]") {
  const int ld = 4, classes = 3;  // column 3 is padding with the largest values, never read
  const std::vector<float> x = {
      1, 5, 5, 99,  // tie between 1 and 2 -> 1
      7, 7, 7, 99,  // three-way tie -> 0
      0, 1, 2, 99,  // clear winner 2
      3, 3, 1, 99,  // tie between 0 and 1 -> 0
  };
  const std::vector<int32_t> labels = {1, 0, 1, 1};  // right, right, wrong, wrong
  REQUIRE(cvae::argmax_accuracy(x.data(), 4, ld, labels.data(), classes) == Approx(0.5));
  const std::vector<int32_t> tie_losers = {2, 1, 2, 1};  // the higher index of each tie: only row 2 right
  REQUIRE(cvae::argmax_accuracy(x.data(), 4, ld, tie_losers.data(), classes) == Approx(0.25));
}

TEST_CASE("argmax accuracy rejects a short leading dimension, no rows, and out-of-range labels", "[metrics]") {
  const std::vector<float> x = {0, 1, 2, 3};
  const std::vector<int32_t> bad = {0, 3};
  REQUIRE(error_message([&] { cvae::argmax_accuracy(x.data(), 2, 1, bad.data(), 2); })
              .find("leading dimension") != std::string::npos);
  REQUIRE(error_message([&] { cvae::argmax_accuracy(x.data(), 0, 2, bad.data(), 2); }).find("no rows") !=
          std::string::npos);
  REQUIRE(error_message([&] { cvae::argmax_accuracy(x.data(), 2, 2, bad.data(), 2); }).find("label 3") !=
          std::string::npos);
}

// ---- Linear probe -----------------------------------------------------------------------------

TEST_CASE("linear probe reaches ~100% on linearly separable seeded Gaussian blobs", "[metrics]") {
  // Class means 8 e_c apart by 8√2 ≈ 11 σ: essentially separable. Padding columns past dim hold
  // huge values that must never be read.
  std::mt19937 rng(2024);
  const int dim = 20, ld = 23, classes = 10;
  std::vector<float> train_x, test_x;
  std::vector<int32_t> train_y, test_y;
  gaussian_blobs(rng, 3000, dim, ld, classes, 8.0, 1e30f, train_x, train_y);
  gaussian_blobs(rng, 1000, dim, ld, classes, 8.0, 1e30f, test_x, test_y);
  const cvae::LinearProbeResult result = cvae::linear_probe(train_x.data(), 3000, train_y.data(), test_x.data(),
                                                            1000, test_y.data(), dim, ld, classes);
  REQUIRE(result.train_accuracy >= 0.999);
  REQUIRE(result.test_accuracy >= 0.995);
}

TEST_CASE("linear probe is at chance on test data when labels are random", "[metrics]") {
  // Labels independent of the features: any classifier's expected test accuracy is exactly 1/10,
  // with standard deviation sqrt(0.09/10000) = 0.003 here; the tolerance is about 6 σ.
  std::mt19937 rng(5);
  const int dim = 20, classes = 10;
  std::vector<float> train_x, test_x;
  std::vector<int32_t> train_y, test_y;
  gaussian_blobs(rng, 2000, dim, dim, classes, 0.0, 0.0f, train_x, train_y);
  gaussian_blobs(rng, 10000, dim, dim, classes, 0.0, 0.0f, test_x, test_y);
  const cvae::LinearProbeResult result = cvae::linear_probe(train_x.data(), 2000, train_y.data(), test_x.data(),
                                                            10000, test_y.data(), dim, dim, classes);
  REQUIRE(result.test_accuracy == Approx(1.0 / classes).margin(0.02));
  REQUIRE(result.train_accuracy > result.test_accuracy);  // it fits noise on train, as it should
}

TEST_CASE("linear probe is invariant to per-feature scaling and shifting (standardisation)", "[metrics]") {
  // Overlapping blobs (accuracy well below 1, so the decision boundary matters), then every feature
  // scaled by a factor between 1e-4 and 1e4 and shifted by a multiple of it. Without standardisation
  // the 1e-4 L2 penalty and the conditioning would both change the fit.
  std::mt19937 rng(77);
  const int dim = 20, classes = 10;
  const int64_t n_train = 4000, n_test = 2000;
  std::vector<float> train_x, test_x;
  std::vector<int32_t> train_y, test_y;
  gaussian_blobs(rng, n_train, dim, dim, classes, 1.5, 0.0f, train_x, train_y);
  gaussian_blobs(rng, n_test, dim, dim, classes, 1.5, 0.0f, test_x, test_y);
  const cvae::LinearProbeResult plain = cvae::linear_probe(train_x.data(), n_train, train_y.data(), test_x.data(),
                                                           n_test, test_y.data(), dim, dim, classes);

  auto rescale = [dim](std::vector<float>& x) {
    for (size_t i = 0; i < x.size(); ++i) {
      const int j = static_cast<int>(i % dim);
      const double scale = std::pow(10.0, (j % 9) - 4);
      x[i] = static_cast<float>((x[i] + 3.0 * (j % 5)) * scale);
    }
  };
  rescale(train_x);
  rescale(test_x);
  const cvae::LinearProbeResult scaled = cvae::linear_probe(train_x.data(), n_train, train_y.data(), test_x.data(),
                                                            n_test, test_y.data(), dim, dim, classes);

  REQUIRE(plain.test_accuracy > 0.3);
  REQUIRE(plain.test_accuracy < 0.95);
  // Float rounding of the rescaled inputs may flip a point or two sitting on a boundary.
  REQUIRE(scaled.train_accuracy == Approx(plain.train_accuracy).margin(2.0 / n_train));
  REQUIRE(scaled.test_accuracy == Approx(plain.test_accuracy).margin(2.0 / n_test));
}

TEST_CASE("linear probe gives the same result twice (deterministic)", "[metrics]") {
  std::mt19937 rng(3);
  std::vector<float> train_x, test_x;
  std::vector<int32_t> train_y, test_y;
  gaussian_blobs(rng, 1000, 5, 5, 4, 1.0, 0.0f, train_x, train_y);
  gaussian_blobs(rng, 500, 5, 5, 4, 1.0, 0.0f, test_x, test_y);
  const auto first = cvae::linear_probe(train_x.data(), 1000, train_y.data(), test_x.data(), 500, test_y.data(),
                                        5, 5, 4);
  const auto second = cvae::linear_probe(train_x.data(), 1000, train_y.data(), test_x.data(), 500, test_y.data(),
                                         5, 5, 4);
  REQUIRE(first.train_accuracy == second.train_accuracy);
  REQUIRE(first.test_accuracy == second.test_accuracy);
}

TEST_CASE("linear probe keeps a constant feature harmless and rejects bad arguments", "[metrics]") {
  std::mt19937 rng(8);
  const int dim = 3, classes = 3;
  std::vector<float> train_x, test_x;
  std::vector<int32_t> train_y, test_y;
  gaussian_blobs(rng, 600, dim, dim, classes, 8.0, 0.0f, train_x, train_y);
  gaussian_blobs(rng, 300, dim, dim, classes, 8.0, 0.0f, test_x, test_y);
  // Make feature 1 constant on train (zero spread) but not on test: it must not blow up.
  for (int64_t i = 0; i < 600; ++i) train_x[i * dim + 1] = 4.0f;
  const auto result = cvae::linear_probe(train_x.data(), 600, train_y.data(), test_x.data(), 300, test_y.data(),
                                         dim, dim, classes);
  REQUIRE(result.train_accuracy >= 0.99);  // classes 0 and 2 still separate; class 1 is "neither"
  REQUIRE(std::isfinite(result.test_accuracy));

  std::vector<int32_t> bad_y = train_y;
  bad_y[17] = classes;
  REQUIRE(error_message([&] {
            cvae::linear_probe(train_x.data(), 600, bad_y.data(), test_x.data(), 300, test_y.data(), dim, dim,
                               classes);
          }).find("linear_probe: train label 3 of row 17") == 0);
  REQUIRE(error_message([&] {
            cvae::linear_probe(train_x.data(), 600, train_y.data(), test_x.data(), 300, test_y.data(), dim, 2,
                               classes);
          }).find("leading dimension") != std::string::npos);
  REQUIRE(error_message([&] {
            cvae::linear_probe(train_x.data(), 600, train_y.data(), test_x.data(), 0, test_y.data(), dim, dim,
                               classes);
          }).find("no test rows") != std::string::npos);
  std::vector<float> nan_x = train_x;
  nan_x[5] = NAN;
  REQUIRE(error_message([&] {
            cvae::linear_probe(nan_x.data(), 600, train_y.data(), test_x.data(), 300, test_y.data(), dim, dim,
                               classes);
          }).find("not finite") != std::string::npos);
}

// Movable Lambda-Hot centres: the re-fit equals a direct computation, the anchor holds its bounds,
// and a run writes the centres and their distances.
#include <catch2/catch.hpp>

#include <cmath>

#include <nlohmann/json.hpp>

#include "engine/io/files.h"
#include "engine/prior/movable.h"
#include "engine/prior/prior.h"
#include "engine/train/experiment.h"
#include "tests/fixtures.h"
#include "tests/test_helpers.h"

using namespace cvae;

TEST_CASE("class means equal a direct computation; an absent class keeps its centre", "[movable]") {
  // three classes in 2-D: points (label): (1,1) 0, (3,1) 0, (0,4) 1; class 2 absent
  std::vector<float> sums = {4, 2, 0, 4, 0, 0}, counts = {2, 1, 0};
  std::vector<float> previous = {9, 9, 9, 9, 7, -7};
  std::vector<float> means = class_means(sums, counts, previous, 3, 2);
  REQUIRE(means == std::vector<float>{2, 1, 0, 4, 7, -7});
}

TEST_CASE("the spread anchor restores mean and spread and keeps every pair at least min_distance apart", "[movable]") {
  const int k = 10, latent = 20;
  const double lambda = 5, bound = lambda / std::sqrt(2.0);
  CentreGeometry target = centre_geometry(lambda_hot_means(k, latent, 5.0f), k, latent);
  REQUIRE(target.spread == Approx(lambda * std::sqrt(0.9)));
  for (uint32_t trial = 0; trial < 20; ++trial) {
    // random configurations, shrunk (collapsing) or blown up, some with coincident centres
    std::vector<double> raw = test::random_values(k * latent, 300 + trial, -1, 1);
    double scale = trial % 2 ? 0.05 : 30.0;
    std::vector<float> centres(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) centres[i] = static_cast<float>(raw[i] * scale + 3.0);
    if (trial % 3 == 0)
      for (int j = 0; j < latent; ++j) centres[latent + j] = centres[j];  // classes 0 and 1 coincide
    std::vector<float> anchored = anchor_centres(centres, k, latent, target, bound);
    std::vector<double> d = pairwise_distances(anchored, k, latent);
    for (int a = 0; a < k; ++a)
      for (int b = a + 1; b < k; ++b) REQUIRE(d[a * k + b] >= bound * (1 - 1e-6));
    CentreGeometry now = centre_geometry(anchored, k, latent);
    for (int j = 0; j < latent; ++j) REQUIRE(now.mean[j] == Approx(target.mean[j]).margin(1e-5));
    REQUIRE(now.spread >= target.spread * (1 - 1e-6));
    REQUIRE(now.spread <= target.spread * 1.25);  // pushes raise the spread only a little
  }
}

TEST_CASE("without violations the anchor is an exact recentre and rescale", "[movable]") {
  std::vector<float> centres = {0, 0, 10, 0, 0, 10};  // spread and mean differ from the target
  CentreGeometry target{{1.0, 1.0}, 2.0};
  std::vector<float> anchored = anchor_centres(centres, 3, 2, target, 0.5);
  CentreGeometry now = centre_geometry(anchored, 3, 2);
  REQUIRE(now.spread == Approx(2.0));
  REQUIRE(now.mean[0] == Approx(1.0));
  // the shape is kept: distance ratios are unchanged
  std::vector<double> before = pairwise_distances(centres, 3, 2), after = pairwise_distances(anchored, 3, 2);
  REQUIRE(after[1] / after[2] == Approx(before[1] / before[2]));
}

TEST_CASE("a movable run writes its centres, their distances, and the nearest-centre accuracy", "[movable]") {
  if (!test::have_mnist()) {
    WARN(test::kNoMnist);
    return;
  }
  test::ScratchDir dir;
  for (Method method : {Method::movable, Method::lambdahot}) {
    INFO(method_name(method));
    Config config = test::mnist_config(method, dir.path, 3, 6000, 500);
    ExperimentResult result = run_experiment(config);
    double nearest = result.metrics["nearest_centre_accuracy"].get<double>();
    REQUIRE(nearest > 0.5);  // chance is 0.1
    if (method == Method::lambdahot)  // nearest λ·e_y is the argmax of the first dims: the same classifier
      REQUIRE(nearest == result.metrics["argmax_accuracy"].get<double>());
    nlohmann::json centres = nlohmann::json::parse(read_file(result.run_dir + "/centres.json"));
    REQUIRE(centres["distances"].size() == 10);
    for (int a = 0; a < 10; ++a) {
      REQUIRE(centres["distances"][a][a].get<double>() == 0.0);
      for (int b = 0; b < 10; ++b) {
        REQUIRE(centres["distances"][a][b].get<double>() == centres["distances"][b][a].get<double>());
        if (method == Method::movable && a != b) REQUIRE(centres["distances"][a][b].get<double>() >= 5.0 / std::sqrt(2.0) * (1 - 1e-5));
      }
    }
    REQUIRE_THAT(read_file(result.run_dir + "/centre_distances.svg"), Catch::Contains("<svg"));
  }
}

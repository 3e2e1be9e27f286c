// Sampling for the figures: decoded images are sigmoid(decoder(z)) with the CVAE's one-hot, grids
// group their images by class or centre, and a seed fixes every draw.
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/backend/backend.h"
#include "engine/config.h"
#include "engine/error.h"
#include "engine/train/trainer.h"
#include "report/sampling.h"
#include "tests/fixtures.h"
#include "tests/test_helpers.h"

using namespace cvae;

namespace {

Config small_config(Method method) {
  Config c = test::tiny_config(method);
  c.latent_dim = 4;
  c.hidden = 8;
  c.clusters = 5;
  c.eval_batch = 4;  // several decoder batches
  return c;
}

}  // namespace

TEST_CASE("decoded samples are the sigmoid of the decoder at z, with the CVAE's one-hot", "[report]") {
  auto backend = make_backend("cpu", 1);
  for (Method method : {Method::vae, Method::cvae}) {
    Config config = small_config(method);
    ModelState state = make_model_state(*backend, config, 16);
    const int n = 7, latent = 4;
    std::vector<float> z = test::cast_all<float>(test::random_values(n * latent, 4, -2, 2));
    std::vector<int32_t> labels = {0, 1, 2, 0, 1, 2, 1};
    GeneratedImages out = decode_latents(*backend, state, z, labels, config.eval_batch);
    REQUIRE(out.count == n);
    REQUIRE(out.pixels == 16);
    std::vector<float> params = download_params(*backend, state);
    const Linear& fc3 = state.layout.fc3;
    const Linear& fc4 = state.layout.fc4;
    for (int i = 0; i < n; ++i) {
      std::vector<double> input(fc3.in, 0.0);
      for (int j = 0; j < latent; ++j) input[j] = z[i * latent + j];
      if (state.shape.conditional) input[latent + labels[i]] = 1.0;
      std::vector<double> hidden(fc3.out);
      for (int h = 0; h < fc3.out; ++h) {
        double v = params[fc3.bias_offset + h];
        for (int j = 0; j < fc3.in; ++j) v += params[fc3.weight_offset + h * fc3.in + j] * input[j];
        hidden[h] = v > 0 ? v : 0;
      }
      for (int p = 0; p < fc4.out; ++p) {
        double v = params[fc4.bias_offset + p];
        for (int h = 0; h < fc4.in; ++h) v += params[fc4.weight_offset + p * fc4.in + h] * hidden[h];
        REQUIRE(out.pixels_data[i * 16 + p] == Approx(1.0 / (1.0 + std::exp(-v))).margin(1e-5));
      }
    }
  }
}

TEST_CASE("class-conditional and centre samples are grouped, seeded and shared across a grid's rows", "[report]") {
  auto backend = make_backend("cpu", 1);
  Config config = small_config(Method::lambdahot);
  ModelState state = make_model_state(*backend, config, 16);
  GeneratedImages grid = conditional_samples(*backend, config, state, 5, 1, kSampleConditionalGrid, true);
  REQUIRE(grid.count == 15);
  for (int i = 0; i < 15; ++i) REQUIRE(grid.group[i] == i / 5);
  GeneratedImages again = conditional_samples(*backend, config, state, 5, 1, kSampleConditionalGrid, true);
  REQUIRE(again.pixels_data == grid.pixels_data);
  GeneratedImages other_seed = conditional_samples(*backend, config, state, 5, 2, kSampleConditionalGrid, true);
  REQUIRE(other_seed.pixels_data != grid.pixels_data);
  GeneratedImages other_use = conditional_samples(*backend, config, state, 5, 1, kSampleConditionalAccuracy, true);
  REQUIRE(other_use.pixels_data != grid.pixels_data);
  // Rows of different classes differ (different prior means), even with shared ε.
  REQUIRE(std::vector<float>(grid.pixels_data.begin(), grid.pixels_data.begin() + 16) !=
          std::vector<float>(grid.pixels_data.begin() + 5 * 16, grid.pixels_data.begin() + 6 * 16));

  Config vae = small_config(Method::vae);
  ModelState vae_state = make_model_state(*backend, vae, 16);
  REQUIRE_THROWS_WITH(conditional_samples(*backend, vae, vae_state, 2, 1, kSampleConditionalGrid, true),
                      Catch::Contains("no class-conditional sampler"));
  REQUIRE_THROWS_WITH(cluster_samples(*backend, vae, vae_state, 2, 1, kSampleClusterGrid, true),
                      Catch::Contains("no k-means centres"));

  Config kmeans = small_config(Method::kmeans);
  ModelState kmeans_state = make_model_state(*backend, kmeans, 16);
  GeneratedImages centres = cluster_samples(*backend, kmeans, kmeans_state, 3, 1, kSampleClusterGrid, false);
  REQUIRE(centres.count == 15);
  for (int i = 0; i < 15; ++i) REQUIRE(centres.group[i] == i / 3);
  GeneratedImages prior = prior_samples(*backend, kmeans, kmeans_state, 40, 1);
  REQUIRE(prior.count == 40);
  for (int32_t g : prior.group) REQUIRE((g >= 0 && g < 5));
  for (float v : prior.pixels_data) REQUIRE((v >= 0 && v <= 1));
}

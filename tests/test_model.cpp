// The whole model through the Backend: its gradient against finite differences for every method,
// bit-identical training for a seed, and a short end-to-end run on real images.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

#include "engine/backend/cpu/cpu_backend.h"
#include "engine/io/files.h"
#include "engine/nn/model.h"
#include "engine/train/experiment.h"
#include "engine/train/trainer.h"
#include "tests/fixtures.h"
#include "tests/test_helpers.h"
#include "tests/tiny_data.h"

using namespace cvae;
using cvae::test::TinyData;
using cvae::test::tiny_config;
using cvae::test::tiny_data;

namespace {

double batch_loss(Backend& backend, ModelState& state, Workspace& ws, const BatchInput& input,
                  const PriorArgs& prior, RngPosition rng, float kl_weight) {
  model_forward(backend, state.shape, state.layout, state.params.f32(), ws, input, prior, rng, 0,
                true, false);
  double total = 0;
  for (int i = 0; i < input.batch; ++i) total += ws.bce.f32()[i] + kl_weight * ws.kl.f32()[i];
  return total / input.batch;
}

}  // namespace

TEST_CASE("model gradient matches finite differences along random directions, every method", "[model]") {
  for (Method method : all_methods()) {
    INFO("method " << method_name(method));
    CpuBackend backend(1);
    Config config = tiny_config(method);
    TinyData data = tiny_data(backend, 24, 12, 3, 5);
    ModelState state = make_model_state(backend, config, 12);
    if (method == Method::kmeans) fit_initial_centroids(backend, config, state, data.split);
    Workspace ws = make_workspace(backend, state.shape, 8, true);
    std::vector<int32_t> idx = {3, 1, 4, 15, 9, 2, 6, 5};
    BatchInput input{data.split.images.as<uint8_t>(), data.split.labels.as<int32_t>(), idx.data(), 8};
    PriorArgs prior = state.prior->args(data.split.labels.as<int32_t>());
    RngPosition rng{9, RngStream::train_noise, 3};
    float w = static_cast<float>(config.beta);

    model_forward(backend, state.shape, state.layout, state.params.f32(), ws, input, prior, rng, 0, true, true);
    model_backward(backend, state.shape, state.layout, state.params.f32(), state.grads.f32(), ws,
                   input, prior, rng, 0, w);
    std::vector<float> grad(state.grads.f32(), state.grads.f32() + state.layout.total);
    std::vector<float> theta(state.params.f32(), state.params.f32() + state.layout.total);

    for (uint32_t trial = 0; trial < 3; ++trial) {
      std::vector<double> direction = test::random_values(theta.size(), 100 + trial, -1, 1);
      double analytic = 0;
      for (size_t i = 0; i < theta.size(); ++i) analytic += grad[i] * direction[i];
      const double h = 2e-3;
      auto at = [&](double t) {
        for (size_t i = 0; i < theta.size(); ++i)
          state.params.f32()[i] = static_cast<float>(theta[i] + t * direction[i]);
        return batch_loss(backend, state, ws, input, prior, rng, w);
      };
      double numeric = (at(h) - at(-h)) / (2 * h);
      at(0);
      INFO("trial " << trial << " analytic " << analytic << " numeric " << numeric);
      REQUIRE(analytic == Approx(numeric).epsilon(0.02).margin(0.05));
    }
  }
}

TEST_CASE("CVAE reads the label: changing it changes the reconstruction", "[model]") {
  CpuBackend backend(1);
  Config config = tiny_config(Method::cvae);
  TinyData data = tiny_data(backend, 6, 12, 3, 8);
  ModelState state = make_model_state(backend, config, 12);
  REQUIRE(state.shape.encoder_in() == 15);
  REQUIRE(state.shape.decoder_in() == 8);
  Workspace ws = make_workspace(backend, state.shape, 2, false);
  std::vector<int32_t> idx = {0, 1};  // same image content? no: use labels 0 and 1 of equal images
  std::copy(data.images.begin(), data.images.begin() + 12, data.split.images.as<uint8_t>() + 12);
  BatchInput input{data.split.images.as<uint8_t>(), data.split.labels.as<int32_t>(), idx.data(), 2};
  PriorArgs prior = state.prior->args(data.split.labels.as<int32_t>());
  model_forward(backend, state.shape, state.layout, state.params.f32(), ws, input, prior, {}, 0, false, false);
  // images 0 and 1 are identical; labels differ, so μ and the logits must differ
  REQUIRE(ws.encoder_in.f32()[12] == 1.0f);
  REQUIRE(ws.encoder_in.f32()[15 + 13] == 1.0f);
  REQUIRE(ws.mu_logvar.f32()[0] != ws.mu_logvar.f32()[10]);
  REQUIRE(ws.logits.f32()[0] != ws.logits.f32()[12]);
}

TEST_CASE("training twice with one seed gives bit-identical weights; another seed does not", "[model]") {
  auto run = [](uint64_t seed, Method method) {
    CpuBackend backend(2);
    Config config = tiny_config(method);
    config.seed = seed;
    config.epochs = 2;
    TinyData data = tiny_data(backend, 50, 12, 3, 4);
    ModelState state = make_model_state(backend, config, 12);
    fit_initial_centroids(backend, config, state, data.split);
    train(backend, config, state, data.split, {});
    std::vector<float> params = download_params(backend, state);
    params.insert(params.end(), state.prior->means().begin(), state.prior->means().end());
    return params;
  };
  for (Method method : {Method::lambdahot, Method::kmeans}) {
    INFO(method_name(method));
    std::vector<float> a = run(1, method), b = run(1, method), c = run(2, method);
    REQUIRE(a.size() == b.size());
    REQUIRE(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
    REQUIRE(a != c);
  }
}

TEST_CASE("a short end-to-end run on real MNIST images lowers the loss and gives finite metrics", "[model][data]") {
  if (!test::have_mnist_train()) {
    WARN(test::kNoMnist);
    return;
  }
  for (Method method : {Method::lambdahot, Method::kmeans}) {
    INFO(method_name(method));
    test::ScratchDir dir;
    Config config = test::mnist_config(method, dir.path, 3, 3000, 1000);
    config.threads = 2;
    ExperimentResult result = run_experiment(config);
    REQUIRE(result.epochs.size() == 3);
    REQUIRE(result.epochs[2].loss < result.epochs[0].loss);
    for (const char* key : {"test_bce_sampled", "test_bce_mean", "test_kl", "cluster_accuracy_majority",
                            "cluster_accuracy_hungarian", "nmi", "linear_probe_accuracy"}) {
      INFO(key);
      double v = result.metrics[key].get<double>();
      REQUIRE(std::isfinite(v));
    }
    REQUIRE(result.metrics["test_bce_sampled"].get<double>() < 250);  // untrained is ~545
    REQUIRE(result.metrics["linear_probe_accuracy"].get<double>() > 0.6);
    if (method == Method::lambdahot) REQUIRE(result.metrics["argmax_accuracy"].get<double>() > 0.5);
    // what the backend did: the CPU records no step and fuses no linear layer; and where oneDNN came from
    REQUIRE(result.metrics["cuda_graph_replays"].get<int64_t>() == 0);
    REQUIRE(result.metrics["linear_fused"].get<int64_t>() == 0);
    REQUIRE(result.metrics["linear_unfused"].get<int64_t>() == 0);
    bool dnnl = false;
    for (const auto& path : result.metrics["loaded_libraries"])
      dnnl = dnnl || path.get<std::string>().find("libdnnl") != std::string::npos;
    REQUIRE(dnnl);
    for (const char* file : {"config.json", "metrics.json", "log.jsonl", "weights.safetensors"})
      REQUIRE(path_exists(result.run_dir + "/" + file));
    std::string log = read_file(result.run_dir + "/log.jsonl");
    REQUIRE(std::count(log.begin(), log.end(), '\n') == 3);
  }
}

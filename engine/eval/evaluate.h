// The paper's metrics after training, on the test split (and the train split for the probe).
#pragma once
#include <optional>

#include <nlohmann/json.hpp>

#include "engine/backend/backend.h"
#include "engine/config.h"
#include "engine/data/dataset.h"
#include "engine/nn/model_state.h"

namespace cvae {

struct Metrics {
  double test_bce_sampled = 0;  // Table 1: Σ pixels, mean over test images, one z ~ q(z|x)
  double test_bce_mean = 0;     // the same with z = μ
  double test_kl = 0;
  std::optional<double> argmax_accuracy;          // lambdahot and movable only (null in JSON otherwise)
  std::optional<double> nearest_centre_accuracy;  // lambdahot and movable: label of the nearest prior mean
  double cluster_accuracy_majority = 0, cluster_accuracy_hungarian = 0, nmi = 0;
  double linear_probe_accuracy = 0, linear_probe_train_accuracy = 0;
  int test_images = 0;
};

Metrics evaluate(Backend& backend, const Config& config, const ModelState& state,
                 const DeviceSplit& train, const DeviceSplit& test,
                 const std::vector<int32_t>& train_labels, const std::vector<int32_t>& test_labels);

nlohmann::ordered_json metrics_json(const Metrics& metrics);

}  // namespace cvae

// One experiment from a config: load and check the data, pick the backend, make the run folder,
// train with a progress line, log and checkpoint every epoch, evaluate, write metrics.json.
// Everything a user can get wrong is checked before the run folder is made.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/config.h"
#include "engine/trainer.h"

namespace cvae {

struct ExperimentResult {
  std::string run_dir;
  nlohmann::ordered_json metrics;
  std::vector<EpochRecord> epochs;
};

ExperimentResult run_experiment(const Config& config, const std::string& progress_label = "");

// The model's weights under the PyTorch VAE example's names (fc1, fc21, fc22, fc3, fc4), plus the
// prior's means; metadata carries the resolved config, epoch and step.
std::string encode_checkpoint(const ModelState& state, const std::vector<float>& params,
                              const Config& config, int epoch);

}  // namespace cvae

// One experiment from a config: load and check the data, pick the backend, make the run folder,
// train with a progress line, log and checkpoint every epoch, evaluate, write metrics.json.
// Everything a user can get wrong is checked before the run folder is made.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/config.h"
#include "engine/train/trainer.h"

namespace cvae {

struct ExperimentResult {
  std::string run_dir;
  nlohmann::ordered_json metrics;
  std::vector<EpochRecord> epochs;
};

ExperimentResult run_experiment(const Config& config, const std::string& progress_label = "");

// Continues the run in `run_dir` from its checkpoint (weights, Adam moments, step, prior means)
// up to config.epochs, in the same folder: log.jsonl grows, weights and metrics are rewritten.
// On the CPU the result is bit-identical to a run that was never interrupted.
ExperimentResult resume_experiment(const std::string& run_dir, const std::vector<std::string>& overrides);

}  // namespace cvae

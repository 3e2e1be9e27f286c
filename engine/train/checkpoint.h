// Checkpoints: the model's weights under the PyTorch VAE example's names (fc1, fc21, fc22, fc3,
// fc4), the prior's means, Adam's moments and step, and the resolved config, epoch and step in the
// metadata — everything a run needs to continue exactly where it stopped (the RNG is counter-based,
// so its position is the step and epoch).
#pragma once
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/nn/model_state.h"

namespace cvae {

std::string encode_checkpoint(Backend& backend, const ModelState& state, const Config& config,
                              int epoch);

struct LoadedRun {
  Config config;
  ModelState state;
  int epoch = 0;  // epochs completed when the checkpoint was written
};

// Reads <run_dir>/config.json and <run_dir>/weights.safetensors into a new model on `backend`.
// Every tensor's presence and shape is checked against the config.
LoadedRun load_run(Backend& backend, const std::string& run_dir);

// The epoch a checkpoint file was written after, from its metadata alone (no backend needed).
int checkpoint_epoch(const std::string& path);

// Restores a checkpoint file into `state` (shapes must match the config the state was made from).
// Returns the epoch it was written after.
int restore_checkpoint(Backend& backend, ModelState& state, const std::string& path);

}  // namespace cvae

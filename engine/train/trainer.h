// Training: epochs of shuffled mini-batches, each step forward → loss → backward → Adam, all as
// Backend calls on buffers sized once (no allocation inside a step); after every epoch the
// method's prior is re-fitted (engine/train/refit.h).
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/config.h"
#include "engine/data/dataset.h"
#include "engine/data/shuffle.h"
#include "engine/nn/model_state.h"
#include "engine/train/refit.h"

namespace cvae {

struct EpochRecord {
  int epoch = 0;
  double loss = 0, bce = 0, kl = 0;  // per image, averaged over the epoch
  double seconds = 0, images_per_second = 0;
  PriorRefit refit;  // what the prior's re-fit after this epoch did (engine/train/refit.h)
};

struct TrainCallbacks {
  // Called every few steps: epoch (1-based), images done in the epoch, running loss per image.
  std::function<void(int epoch, int64_t done, int64_t total, double loss, double seconds)> progress;
  std::function<void(const EpochRecord&)> epoch_done;
};

// Trains epochs first_epoch..config.epochs (a resumed run starts after its checkpoint's epoch).
std::vector<EpochRecord> train(Backend& backend, const Config& config, ModelState& state,
                               const DeviceSplit& train, const TrainCallbacks& callbacks,
                               int first_epoch = 1);

}  // namespace cvae

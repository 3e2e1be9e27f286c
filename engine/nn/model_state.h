// A model as training and everything after it hold it: its shape, the flat parameters, their
// gradients and Adam moments in backend memory, the prior, and the step count; and the encoding of
// a whole split through it (evaluation, the prior's re-fits, the report).
#pragma once
#include <memory>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/config.h"
#include "engine/data/dataset.h"
#include "engine/nn/model.h"
#include "engine/prior/prior.h"

namespace cvae {

struct ModelState {
  ModelShape shape;
  ParamLayout layout;
  Buffer params, grads, adam_m, adam_v;
  int64_t step = 0;
  std::unique_ptr<Prior> prior;
};

ModelState make_model_state(Backend& backend, const Config& config, int pixels);
ModelShape model_shape_from(const Config& config, int pixels);
std::vector<float> download_params(Backend& backend, const ModelState& state);

// μ and log σ² of every image of a split, [count, 2·latent] in backend memory.
Buffer encode_split(Backend& backend, const ModelState& state, const DeviceSplit& split, int eval_batch);

}  // namespace cvae

#include "engine/nn/model_state.h"

#include <algorithm>
#include <cmath>

namespace cvae {

ModelShape model_shape_from(const Config& config, int pixels) {
  ModelShape shape;
  shape.pixels = pixels;
  shape.classes = config.classes;
  shape.hidden = config.hidden;
  shape.latent = config.latent_dim;
  shape.conditional = traits(config.method).conditional;
  if (config.arch == "conv") {
    shape.arch = Arch::conv;
    shape.image_side = static_cast<int>(std::lround(std::sqrt(static_cast<double>(pixels))));
    shape.conv1_channels = config.conv1_channels;
    shape.conv2_channels = config.conv2_channels;
  }
  return shape;
}

ModelState make_model_state(Backend& backend, const Config& config, int pixels) {
  ModelState state;
  state.shape = model_shape_from(config, pixels);
  state.layout = make_param_layout(state.shape);
  size_t bytes = sizeof(float) * state.layout.total;
  state.params = backend.allocate(bytes);
  state.grads = backend.allocate(bytes);
  state.adam_m = backend.allocate(bytes);
  state.adam_v = backend.allocate(bytes);
  std::vector<float> initial = init_params(state.layout, config.seed);
  backend.upload(state.params.as<void>(), initial.data(), bytes);
  state.prior = std::make_unique<Prior>(backend, config);
  return state;
}

std::vector<float> download_params(Backend& backend, const ModelState& state) {
  std::vector<float> params(state.layout.total);
  backend.download(params.data(), state.params.as<void>(), sizeof(float) * params.size());
  return params;
}

Buffer encode_split(Backend& backend, const ModelState& state, const DeviceSplit& split,
                    int eval_batch) {
  const int width = 2 * state.shape.latent;
  Buffer all = backend.allocate(sizeof(float) * split.count * width);
  Workspace ws = make_workspace(backend, state.shape, eval_batch, false);
  Buffer indices = identity_indices(backend, split.count);
  for (int64_t start = 0; start < split.count; start += eval_batch) {
    int batch = static_cast<int>(std::min<int64_t>(eval_batch, split.count - start));
    BatchInput input{split.images.as<uint8_t>(), split.labels.as<int32_t>(),
                     indices.as<int32_t>() + start, batch};
    model_encode(backend, state.shape, state.layout, state.params.f32(), ws, input);
    backend.copy(all.f32() + start * width, ws.mu_logvar.f32(), sizeof(float) * batch * width);
  }
  return all;
}

}  // namespace cvae

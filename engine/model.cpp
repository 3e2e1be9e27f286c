#include "engine/model.h"

#include <cmath>

#include "engine/error.h"

namespace cvae {

namespace {

// Each tensor starts on a 64-float (256-byte) boundary: aligned vector loads on both backends.
int64_t align_up(int64_t floats) { return (floats + 63) / 64 * 64; }

Linear make_linear(const std::string& name, int in, int out, int64_t& cursor) {
  Linear layer{name, in, out, 0, 0};
  layer.weight_offset = cursor;
  cursor = align_up(cursor + static_cast<int64_t>(in) * out);
  layer.bias_offset = cursor;
  cursor = align_up(cursor + out);
  return layer;
}

// y[batch, out] = x[batch, in] Wᵀ + b, then the activation.
void linear_forward(Backend& backend, const Linear& layer, const float* params, const float* x,
                    int ld_x, int batch, float* y, Activation act) {
  backend.gemm(false, true, batch, layer.out, layer.in, 1.0f, x, ld_x,
               params + layer.weight_offset, layer.in, 0.0f, y, layer.out);
  backend.bias_act_forward(y, layer.out, params + layer.bias_offset, batch, layer.out, act);
}

// Given dy (already through the activation's derivative): dW = dyᵀ x (dx, where needed, is a
// separate GEMM in model_backward).
void linear_backward_weights(Backend& backend, const Linear& layer, float* grads, const float* x,
                             int ld_x, int batch, const float* dy) {
  backend.gemm(true, false, layer.out, layer.in, batch, 1.0f, dy, layer.out, x, ld_x, 0.0f,
               grads + layer.weight_offset, layer.in);
}

}  // namespace

ParamLayout make_param_layout(const ModelShape& shape) {
  if (shape.pixels < 1 || shape.hidden < 1 || shape.latent < 1 || shape.classes < 1)
    fail("model: sizes must be positive");
  ParamLayout layout;
  int64_t cursor = 0;
  layout.fc1 = make_linear("encoder.fc1", shape.encoder_in(), shape.hidden, cursor);
  layout.fc2 = make_linear("encoder.fc2", shape.hidden, 2 * shape.latent, cursor);
  layout.fc3 = make_linear("decoder.fc3", shape.decoder_in(), shape.hidden, cursor);
  layout.fc4 = make_linear("decoder.fc4", shape.hidden, shape.pixels, cursor);
  layout.total = cursor;
  return layout;
}

std::vector<float> init_params(const ParamLayout& layout, uint64_t seed) {
  std::vector<float> params(layout.total, 0.0f);
  uint32_t row = 0;  // one Philox row per tensor keeps each tensor's draws independent
  for (const Linear* layer : layout.layers()) {
    double bound = 1.0 / std::sqrt(static_cast<double>(layer->in));
    RngPosition at{seed, RngStream::init, 0};
    int64_t weights = static_cast<int64_t>(layer->in) * layer->out;
    for (int64_t i = 0; i < weights; ++i)
      params[layer->weight_offset + i] =
          static_cast<float>((2.0 * uniform_at(at, row, static_cast<uint32_t>(i)) - 1.0) * bound);
    ++row;
    for (int i = 0; i < layer->out; ++i)
      params[layer->bias_offset + i] =
          static_cast<float>((2.0 * uniform_at(at, row, static_cast<uint32_t>(i)) - 1.0) * bound);
    ++row;
  }
  return params;
}

Workspace make_workspace(Backend& backend, const ModelShape& shape, int capacity, bool training) {
  Workspace ws;
  ws.capacity = capacity;
  auto floats = [&](int64_t cols) { return backend.allocate(sizeof(float) * capacity * cols); };
  ws.encoder_in = floats(shape.encoder_in());
  ws.h1 = floats(shape.hidden);
  ws.mu_logvar = floats(2 * shape.latent);
  ws.decoder_in = floats(shape.decoder_in());
  ws.h3 = floats(shape.hidden);
  ws.logits = floats(shape.pixels);
  ws.kl = floats(1);
  ws.bce = floats(1);
  ws.chosen = backend.allocate(sizeof(int32_t) * capacity);
  if (training) {
    ws.d_logits = floats(shape.pixels);
    ws.d_h3 = floats(shape.hidden);
    ws.d_z = floats(shape.latent);
    ws.d_mu_logvar = floats(2 * shape.latent);
    ws.d_h1 = floats(shape.hidden);
  }
  return ws;
}

void model_encode(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                  const float* params, Workspace& ws, const BatchInput& input) {
  if (input.batch > ws.capacity) fail("model: batch larger than the workspace");
  backend.gather_images(input.images, input.indices, input.batch, shape.pixels,
                        ws.encoder_in.f32(), shape.encoder_in());
  if (shape.conditional)
    backend.write_one_hot(input.labels, input.indices, input.batch, shape.classes,
                          ws.encoder_in.f32() + shape.pixels, shape.encoder_in());
  linear_forward(backend, layout.fc1, params, ws.encoder_in.f32(), shape.encoder_in(), input.batch,
                 ws.h1.f32(), Activation::relu);
  linear_forward(backend, layout.fc2, params, ws.h1.f32(), shape.hidden, input.batch,
                 ws.mu_logvar.f32(), Activation::none);
}

void model_decode(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                  const float* params, Workspace& ws, int batch) {
  linear_forward(backend, layout.fc3, params, ws.decoder_in.f32(), shape.decoder_in(), batch,
                 ws.h3.f32(), Activation::relu);
  linear_forward(backend, layout.fc4, params, ws.h3.f32(), shape.hidden, batch, ws.logits.f32(),
                 Activation::none);
}

void model_forward(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                   const float* params, Workspace& ws, const BatchInput& input,
                   const PriorArgs& prior, RngPosition rng, uint32_t batch_offset, bool sample,
                   bool training) {
  model_encode(backend, shape, layout, params, ws, input);
  PriorArgs with_chosen = prior;
  with_chosen.chosen = ws.chosen.as<int32_t>();
  backend.reparam_kl_forward(ws.mu_logvar.f32(), input.indices, input.batch, shape.latent,
                             with_chosen, rng, batch_offset, sample, ws.decoder_in.f32(),
                             shape.decoder_in(), ws.kl.f32());
  if (shape.conditional)
    backend.write_one_hot(input.labels, input.indices, input.batch, shape.classes,
                          ws.decoder_in.f32() + shape.latent, shape.decoder_in());
  model_decode(backend, shape, layout, params, ws, input.batch);
  // Training: the loss is the mean over the batch, so the 1/B lands in dlogits here (and in the
  // KL weight in the backward); the BCE gradient comes out of the same pass as the loss.
  float inv_batch = 1.0f / static_cast<float>(input.batch);
  backend.bce_with_logits(ws.logits.f32(), input.images, input.indices, input.batch,
                          shape.pixels, inv_batch, ws.bce.f32(),
                          training ? ws.d_logits.f32() : nullptr);
}

void model_backward(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                    const float* params, float* grads, Workspace& ws, const BatchInput& input,
                    const PriorArgs& prior, RngPosition rng, uint32_t batch_offset,
                    float kl_weight) {
  const int batch = input.batch;
  const float inv_batch = 1.0f / static_cast<float>(batch);
  // fc4: logits = h3 W4ᵀ + b4
  backend.bias_act_backward(ws.d_logits.f32(), shape.pixels, ws.logits.f32(), shape.pixels,
                            grads + layout.fc4.bias_offset, batch, shape.pixels, Activation::none);
  linear_backward_weights(backend, layout.fc4, grads, ws.h3.f32(), shape.hidden, batch,
                          ws.d_logits.f32());
  backend.gemm(false, false, batch, shape.hidden, shape.pixels, 1.0f, ws.d_logits.f32(),
               shape.pixels, params + layout.fc4.weight_offset, shape.hidden, 0.0f,
               ws.d_h3.f32(), shape.hidden);
  // fc3: h3 = relu(decoder_in W3ᵀ + b3)
  backend.bias_act_backward(ws.d_h3.f32(), shape.hidden, ws.h3.f32(), shape.hidden,
                            grads + layout.fc3.bias_offset, batch, shape.hidden, Activation::relu);
  linear_backward_weights(backend, layout.fc3, grads, ws.decoder_in.f32(), shape.decoder_in(),
                          batch, ws.d_h3.f32());
  // dz = d_h3 W3[:, :latent] (the one-hot columns of CVAE need no gradient)
  backend.gemm(false, false, batch, shape.latent, shape.hidden, 1.0f, ws.d_h3.f32(), shape.hidden,
               params + layout.fc3.weight_offset, shape.decoder_in(), 0.0f, ws.d_z.f32(),
               shape.latent);
  PriorArgs with_chosen = prior;
  with_chosen.chosen = ws.chosen.as<int32_t>();
  backend.reparam_kl_backward(ws.mu_logvar.f32(), input.indices, batch, shape.latent, with_chosen,
                              rng, batch_offset, ws.d_z.f32(), shape.latent, kl_weight * inv_batch,
                              ws.d_mu_logvar.f32());
  // fc2: mu_logvar = h1 W2ᵀ + b2
  backend.bias_act_backward(ws.d_mu_logvar.f32(), 2 * shape.latent, ws.mu_logvar.f32(),
                            2 * shape.latent, grads + layout.fc2.bias_offset, batch,
                            2 * shape.latent, Activation::none);
  linear_backward_weights(backend, layout.fc2, grads, ws.h1.f32(), shape.hidden, batch,
                          ws.d_mu_logvar.f32());
  backend.gemm(false, false, batch, shape.hidden, 2 * shape.latent, 1.0f, ws.d_mu_logvar.f32(),
               2 * shape.latent, params + layout.fc2.weight_offset, shape.hidden, 0.0f,
               ws.d_h1.f32(), shape.hidden);
  // fc1: h1 = relu(encoder_in W1ᵀ + b1); the input needs no gradient
  backend.bias_act_backward(ws.d_h1.f32(), shape.hidden, ws.h1.f32(), shape.hidden,
                            grads + layout.fc1.bias_offset, batch, shape.hidden, Activation::relu);
  linear_backward_weights(backend, layout.fc1, grads, ws.encoder_in.f32(), shape.encoder_in(),
                          batch, ws.d_h1.f32());
}

}  // namespace cvae

#include "engine/nn/mlp.h"

#include "engine/nn/layers.h"

namespace cvae {

namespace {

void mlp_encode(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                const float* params, Workspace& ws, const BatchInput& input) {
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

void mlp_decode(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                const float* params, Workspace& ws, int batch) {
  linear_forward(backend, layout.fc3, params, ws.decoder_in.f32(), shape.decoder_in(), batch,
                 ws.h3.f32(), Activation::relu);
  linear_forward(backend, layout.fc4, params, ws.h3.f32(), shape.hidden, batch, ws.logits.f32(),
                 Activation::none);
}

// From d_logits to d_h3 (the gradient of fc3's output, before its ReLU).
void mlp_backward_decoder(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                          const float* params, float* grads, Workspace& ws, int batch) {
  // fc4: logits = h3 W4ᵀ + b4
  backend.bias_act_backward(ws.d_logits.f32(), shape.pixels, ws.logits.f32(), shape.pixels,
                            grads + layout.fc4.bias_offset, batch, shape.pixels, Activation::none);
  linear_backward_weights(backend, layout.fc4, grads, ws.h3.f32(), shape.hidden, batch,
                          ws.d_logits.f32());
  linear_backward_data(backend, layout.fc4, params, ws.d_logits.f32(), batch, shape.hidden, ws.d_h3.f32(),
                       shape.hidden);
}

// From d_mu_logvar (fc2's bias gradient already taken) to fc1's gradients.
void mlp_backward_encoder(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                          const float* params, float* grads, Workspace& ws, int batch) {
  // fc2: mu_logvar = h1 W2ᵀ + b2
  linear_backward_weights(backend, layout.fc2, grads, ws.h1.f32(), shape.hidden, batch,
                          ws.d_mu_logvar.f32());
  linear_backward_data(backend, layout.fc2, params, ws.d_mu_logvar.f32(), batch, shape.hidden,
                       ws.d_h1.f32(), shape.hidden);
  // fc1: h1 = relu(encoder_in W1ᵀ + b1); the input needs no gradient
  backend.bias_act_backward(ws.d_h1.f32(), shape.hidden, ws.h1.f32(), shape.hidden,
                            grads + layout.fc1.bias_offset, batch, shape.hidden, Activation::relu);
  linear_backward_weights(backend, layout.fc1, grads, ws.encoder_in.f32(), shape.encoder_in(),
                          batch, ws.d_h1.f32());
}

}  // namespace

const NetPasses& mlp_passes() {
  static const NetPasses passes{mlp_encode, mlp_decode, mlp_backward_decoder, mlp_backward_encoder};
  return passes;
}

}  // namespace cvae

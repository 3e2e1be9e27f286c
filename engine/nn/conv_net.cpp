#include "engine/nn/conv_net.h"

#include <algorithm>

#include "engine/nn/layers.h"

namespace cvae {

void add_conv_buffers(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                      Workspace& ws, bool training) {
  const int64_t capacity = ws.capacity;
  const int half = shape.image_side / 2;
  auto floats = [&](int64_t per_row) { return backend.allocate(sizeof(float) * capacity * per_row); };
  const int64_t c1_size = static_cast<int64_t>(half) * half * shape.conv1_channels;
  ws.one_hot = floats(shape.classes);
  ws.c1 = floats(c1_size);
  ws.c2 = floats(shape.conv_features());
  ws.deconv1_out = floats(c1_size);
  if (training) {
    ws.d_c1 = floats(c1_size);
    ws.d_c2 = floats(shape.conv_features());
    ws.d_deconv1_out = floats(c1_size);
  }
  // Set-up, once: every conv op of the step runs at most `capacity` images and shares one scratch.
  size_t bytes = 0;
  for (const ConvLayer* layer : layout.conv_layers())
    bytes = std::max(bytes, backend.conv_prepare(layer->at(ws.capacity)));
  ws.conv_scratch = backend.allocate(std::max<size_t>(bytes, 1));
  ws.conv_scratch_bytes = bytes;
}

namespace {

void conv_encode(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                 const float* params, Workspace& ws, const BatchInput& input) {
  const int batch = input.batch, features = shape.conv_features();
  backend.gather_images(input.images, input.indices, batch, shape.pixels, ws.encoder_in.f32(),
                        shape.pixels);
  conv_layer_forward(backend, layout.conv1, params, ws.encoder_in.f32(), batch, ws.c1.f32(),
                     Activation::relu, ws);
  conv_layer_forward(backend, layout.conv2, params, ws.c1.f32(), batch, ws.c2.f32(),
                     Activation::relu, ws);
  // fc2 over [features | one-hot]: two GEMMs into the same output, W2 split by columns.
  const Linear& fc2 = layout.fc2;
  const float* w2 = params + fc2.weight_offset;
  backend.gemm(false, true, batch, fc2.out, features, 1.0f, ws.c2.f32(), features, w2, fc2.in,
               0.0f, ws.mu_logvar.f32(), fc2.out);
  if (shape.conditional) {
    backend.write_one_hot(input.labels, input.indices, batch, shape.classes, ws.one_hot.f32(),
                          shape.classes);
    backend.gemm(false, true, batch, fc2.out, shape.classes, 1.0f, ws.one_hot.f32(),
                 shape.classes, w2 + features, fc2.in, 1.0f, ws.mu_logvar.f32(), fc2.out);
  }
  backend.bias_act_forward(ws.mu_logvar.f32(), fc2.out, params + fc2.bias_offset, batch, fc2.out,
                           Activation::none);
}

void conv_decode(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                 const float* params, Workspace& ws, int batch) {
  linear_forward(backend, layout.fc3, params, ws.decoder_in.f32(), shape.decoder_in(), batch,
                 ws.h3.f32(), Activation::relu);
  conv_layer_forward(backend, layout.deconv1, params, ws.h3.f32(), batch, ws.deconv1_out.f32(),
                     Activation::relu, ws);
  conv_layer_forward(backend, layout.deconv2, params, ws.deconv1_out.f32(), batch, ws.logits.f32(),
                     Activation::none, ws);
}

void conv_backward_decoder(Backend& backend, const ModelShape&, const ParamLayout& layout,
                           const float* params, float* grads, Workspace& ws, int batch) {
  conv_layer_backward(backend, layout.deconv2, params, grads, ws.deconv1_out.f32(), ws.logits.f32(),
                      ws.d_logits.f32(), batch, Activation::none, ws.d_deconv1_out.f32(), ws);
  conv_layer_backward(backend, layout.deconv1, params, grads, ws.h3.f32(), ws.deconv1_out.f32(),
                      ws.d_deconv1_out.f32(), batch, Activation::relu, ws.d_h3.f32(), ws);
}

void conv_backward_encoder(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                           const float* params, float* grads, Workspace& ws, int batch) {
  const int features = shape.conv_features();
  const Linear& fc2 = layout.fc2;
  float* dw2 = grads + fc2.weight_offset;
  // dW2 = d_mu_logvarᵀ [features | one-hot], written as two column blocks of the [out, in] matrix.
  backend.gemm(true, false, fc2.out, features, batch, 1.0f, ws.d_mu_logvar.f32(), fc2.out,
               ws.c2.f32(), features, 0.0f, dw2, fc2.in);
  if (shape.conditional)
    backend.gemm(true, false, fc2.out, shape.classes, batch, 1.0f, ws.d_mu_logvar.f32(), fc2.out,
                 ws.one_hot.f32(), shape.classes, 0.0f, dw2 + features, fc2.in);
  // d_features = d_mu_logvar W2[:, :features]
  linear_backward_data(backend, fc2, params, ws.d_mu_logvar.f32(), batch, features, ws.d_c2.f32(), features);
  conv_layer_backward(backend, layout.conv2, params, grads, ws.c1.f32(), ws.c2.f32(),
                      ws.d_c2.f32(), batch, Activation::relu, ws.d_c1.f32(), ws);
  // conv1: the input needs no gradient
  conv_layer_backward(backend, layout.conv1, params, grads, ws.encoder_in.f32(), ws.c1.f32(),
                      ws.d_c1.f32(), batch, Activation::relu, nullptr, ws);
}

}  // namespace

const NetPasses& conv_passes() {
  static const NetPasses passes{conv_encode, conv_decode, conv_backward_decoder, conv_backward_encoder};
  return passes;
}

}  // namespace cvae

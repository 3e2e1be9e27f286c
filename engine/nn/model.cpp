#include "engine/nn/model.h"

#include <cmath>

#include "engine/error.h"
#include "engine/nn/conv_net.h"
#include "engine/nn/layers.h"
#include "engine/nn/mlp.h"

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

// 4×4, stride 2, padding 1: halves the side exactly (the conv net's only kind of layer).
ConvLayer make_conv(const std::string& name, int in_channels, int side, int out_channels,
                    bool transposed, int64_t& cursor) {
  ConvLayer layer;
  layer.name = name;
  layer.geometry.in_channels = in_channels;
  layer.geometry.height = layer.geometry.width = side;
  layer.geometry.out_channels = out_channels;
  layer.geometry.kernel = 4;
  layer.geometry.stride = 2;
  layer.geometry.padding = 1;
  layer.transposed = transposed;
  layer.weight_offset = cursor;
  cursor = align_up(cursor + layer.geometry.w_count());
  layer.bias_offset = cursor;
  cursor = align_up(cursor + layer.outputs());
  return layer;
}

// Fills `count` floats from `offset` with U(−bound, bound) from Philox row `row`.
void fill_uniform(std::vector<float>& params, int64_t offset, int64_t count, double bound,
                  uint64_t seed, uint32_t row) {
  RngPosition at{seed, RngStream::init, 0};
  for (int64_t i = 0; i < count; ++i)
    params[offset + i] =
        static_cast<float>((2.0 * uniform_at(at, row, static_cast<uint32_t>(i)) - 1.0) * bound);
}

}  // namespace

int64_t NamedParam::count() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

ParamLayout make_param_layout(const ModelShape& shape) {
  if (shape.pixels < 1 || shape.hidden < 1 || shape.latent < 1 || shape.classes < 1)
    fail("model: sizes must be positive");
  ParamLayout layout;
  layout.arch = shape.arch;
  int64_t cursor = 0;
  if (shape.arch == Arch::conv) {
    const int side = shape.image_side, c1 = shape.conv1_channels, c2 = shape.conv2_channels;
    if (side < 4 || side % 4 != 0 || side * side != shape.pixels)
      fail("model: arch=conv needs square images with a side that is a multiple of 4 (these have " +
           std::to_string(shape.pixels) + " pixels)");
    if (c1 < 1 || c2 < 1) fail("model: conv channels must be positive");
    layout.conv1 = make_conv("encoder.conv1", 1, side, c1, false, cursor);
    layout.conv2 = make_conv("encoder.conv2", c1, side / 2, c2, false, cursor);
    layout.fc2 = make_linear("encoder.fc2", shape.encoder_in(), 2 * shape.latent, cursor);
    layout.fc3 = make_linear("decoder.fc3", shape.decoder_in(), shape.conv_features(), cursor);
    // Transposed: side/4 → side/2 (c2 → c1 channels), then side/2 → side (c1 → 1).
    layout.deconv1 = make_conv("decoder.deconv1", c1, side / 2, c2, true, cursor);
    layout.deconv2 = make_conv("decoder.deconv2", 1, side, c1, true, cursor);
  } else {
    layout.fc1 = make_linear("encoder.fc1", shape.encoder_in(), shape.hidden, cursor);
    layout.fc2 = make_linear("encoder.fc2", shape.hidden, 2 * shape.latent, cursor);
    layout.fc3 = make_linear("decoder.fc3", shape.decoder_in(), shape.hidden, cursor);
    layout.fc4 = make_linear("decoder.fc4", shape.hidden, shape.pixels, cursor);
  }
  layout.total = cursor;
  return layout;
}

std::vector<NamedParam> named_params(const ParamLayout& layout, const ModelShape& shape) {
  const int latent = shape.latent;
  auto linear = [](const std::string& name, const Linear& l) {
    return std::vector<NamedParam>{{name + ".weight", {l.out, l.in}, l.weight_offset},
                                   {name + ".bias", {l.out}, l.bias_offset}};
  };
  auto conv = [](const std::string& name, const ConvLayer& c) {
    const ConvGeometry& g = c.geometry;
    return std::vector<NamedParam>{
        {name + ".weight", {g.out_channels, g.kernel, g.kernel, g.in_channels}, c.weight_offset},
        {name + ".bias", {c.outputs()}, c.bias_offset}};
  };
  // The encoder's [μ | log σ²] layer is stored as PyTorch's two heads, fc21 (μ) and fc22.
  const Linear& f2 = layout.fc2;
  std::vector<NamedParam> heads = {
      {"fc21.weight", {latent, f2.in}, f2.weight_offset},
      {"fc21.bias", {latent}, f2.bias_offset},
      {"fc22.weight", {latent, f2.in}, f2.weight_offset + static_cast<int64_t>(latent) * f2.in},
      {"fc22.bias", {latent}, f2.bias_offset + latent}};
  std::vector<std::vector<NamedParam>> parts;
  if (layout.arch == Arch::conv)
    parts = {conv("conv1", layout.conv1), conv("conv2", layout.conv2), heads,
             linear("fc3", layout.fc3), conv("deconv1", layout.deconv1),
             conv("deconv2", layout.deconv2)};
  else
    parts = {linear("fc1", layout.fc1), heads, linear("fc3", layout.fc3), linear("fc4", layout.fc4)};
  std::vector<NamedParam> all;
  for (auto& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

std::vector<float> init_params(const ParamLayout& layout, uint64_t seed) {
  std::vector<float> params(layout.total, 0.0f);
  uint32_t row = 0;  // one Philox row per tensor keeps each tensor's draws independent
  for (const Linear* layer : layout.layers()) {
    double bound = 1.0 / std::sqrt(static_cast<double>(layer->in));
    fill_uniform(params, layer->weight_offset, static_cast<int64_t>(layer->in) * layer->out, bound,
                 seed, row++);
    fill_uniform(params, layer->bias_offset, layer->out, bound, seed, row++);
  }
  for (const ConvLayer* layer : layout.conv_layers()) {
    const ConvGeometry& g = layer->geometry;
    // PyTorch's fan_in is weight.size(1)·k²: in_channels for Conv2d, out_channels for
    // ConvTranspose2d (whose weight is [in, out, k, k]); here both are geometry.in_channels.
    double bound = 1.0 / std::sqrt(static_cast<double>(g.in_channels) * g.kernel * g.kernel);
    fill_uniform(params, layer->weight_offset, g.w_count(), bound, seed, row++);
    fill_uniform(params, layer->bias_offset, layer->outputs(), bound, seed, row++);
  }
  return params;
}

Workspace make_workspace(Backend& backend, const ModelShape& shape, int capacity, bool training) {
  Workspace ws;
  ws.capacity = capacity;
  auto floats = [&](int64_t cols) { return backend.allocate(sizeof(float) * capacity * cols); };
  const bool conv = shape.arch == Arch::conv;
  ws.encoder_in = floats(conv ? shape.pixels : shape.encoder_in());
  ws.mu_logvar = floats(2 * shape.latent);
  ws.decoder_in = floats(shape.decoder_in());
  ws.h3 = floats(shape.decoder_hidden());
  ws.logits = floats(shape.pixels);
  ws.kl = floats(1);
  ws.bce = floats(1);
  ws.chosen = backend.allocate(sizeof(int32_t) * capacity);
  if (training) {
    ws.d_logits = floats(shape.pixels);
    ws.d_h3 = floats(shape.decoder_hidden());
    ws.d_z = floats(shape.latent);
    ws.d_mu_logvar = floats(2 * shape.latent);
  }
  if (conv)
    add_conv_buffers(backend, shape, make_param_layout(shape), ws, training);
  else {
    ws.h1 = floats(shape.hidden);
    if (training) ws.d_h1 = floats(shape.hidden);
  }
  return ws;
}

namespace {

const NetPasses& passes_of(const ModelShape& shape) {
  return shape.arch == Arch::conv ? conv_passes() : mlp_passes();
}

}  // namespace

void model_encode(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                  const float* params, Workspace& ws, const BatchInput& input) {
  if (input.batch > ws.capacity) fail("model: batch larger than the workspace");
  passes_of(shape).encode(backend, shape, layout, params, ws, input);
}

void model_decode(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                  const float* params, Workspace& ws, int batch) {
  if (batch > ws.capacity) fail("model: batch larger than the workspace");
  passes_of(shape).decode(backend, shape, layout, params, ws, batch);
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
  const NetPasses& net = passes_of(shape);
  net.backward_decoder(backend, shape, layout, params, grads, ws, batch);
  // fc3: h3 = relu(decoder_in W3ᵀ + b3), the same layer in both networks
  const int hidden = shape.decoder_hidden();
  backend.bias_act_backward(ws.d_h3.f32(), hidden, ws.h3.f32(), hidden,
                            grads + layout.fc3.bias_offset, batch, hidden, Activation::relu);
  linear_backward_weights(backend, layout.fc3, grads, ws.decoder_in.f32(), shape.decoder_in(),
                          batch, ws.d_h3.f32());
  // dz = d_h3 W3[:, :latent] (the one-hot columns of CVAE need no gradient)
  linear_backward_data(backend, layout.fc3, params, ws.d_h3.f32(), batch, shape.latent, ws.d_z.f32(),
                       shape.latent);
  PriorArgs with_chosen = prior;
  with_chosen.chosen = ws.chosen.as<int32_t>();
  backend.reparam_kl_backward(ws.mu_logvar.f32(), input.indices, batch, shape.latent, with_chosen,
                              rng, batch_offset, ws.d_z.f32(), shape.latent, kl_weight * inv_batch,
                              ws.d_mu_logvar.f32());
  // fc2's bias: mu_logvar = (…) W2ᵀ + b2
  backend.bias_act_backward(ws.d_mu_logvar.f32(), 2 * shape.latent, ws.mu_logvar.f32(),
                            2 * shape.latent, grads + layout.fc2.bias_offset, batch,
                            2 * shape.latent, Activation::none);
  net.backward_encoder(backend, shape, layout, params, grads, ws, batch);
}

}  // namespace cvae

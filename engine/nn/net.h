// The types the networks are made of: the model's shape, its layers as views into the flat
// parameter buffer (docs/DESIGN.md decision 3), the layout of that buffer, and the workspace of
// one step (every activation and gradient, sized once). The bottom of engine/nn: it includes only
// the backend.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/backend/backend.h"

namespace cvae {

enum class Arch { mlp, conv };

struct ModelShape {
  Arch arch = Arch::mlp;
  int pixels = 784;
  int classes = 10;
  int hidden = 400;  // mlp only
  int latent = 20;
  bool conditional = false;  // CVAE: one-hot label appended to the encoder input and to z
  // conv only: side×side one-channel images (side a multiple of 4) → side/2 → side/4
  int image_side = 28;
  int conv1_channels = 32, conv2_channels = 64;

  // mlp: the encoder's input row; conv: the dense layer's input (flattened features | one-hot).
  int encoder_in() const { return encoder_features() + (conditional ? classes : 0); }
  int decoder_in() const { return latent + (conditional ? classes : 0); }
  int encoder_features() const { return arch == Arch::conv ? conv_features() : pixels; }
  int decoder_hidden() const { return arch == Arch::conv ? conv_features() : hidden; }
  int conv_features() const { return conv2_channels * (image_side / 4) * (image_side / 4); }
};

// A dense layer y = x Wᵀ + b with W stored [out, in] as in PyTorch.
struct Linear {
  std::string name;
  int in = 0, out = 0;
  int64_t weight_offset = 0, bias_offset = 0;  // in floats, into the flat parameter buffer
};

// A convolution (or, `transposed`, a transposed convolution) with a bias; `geometry` is the
// convolution the Backend runs (batch 0 here, set per call): for a transposed layer that is the
// convolution whose backward_data it is, so its input channels are the layer's output channels.
struct ConvLayer {
  std::string name;
  ConvGeometry geometry;
  bool transposed = false;
  int64_t weight_offset = 0, bias_offset = 0;
  int outputs() const { return transposed ? geometry.in_channels : geometry.out_channels; }
  ConvGeometry at(int batch) const {
    ConvGeometry g = geometry;
    g.batch = batch;
    return g;
  }
};

// One named tensor of the flat buffer, as a checkpoint stores it.
struct NamedParam {
  std::string name;
  std::vector<int64_t> shape;
  int64_t offset = 0;
  int64_t count() const;
};

struct ParamLayout {
  // mlp: encoder hidden, encoder [μ|log σ²], decoder hidden, decoder out.
  // conv: fc2 (features | one-hot → [μ|log σ²]) and fc3 (z | one-hot → features) only.
  Linear fc1, fc2, fc3, fc4;
  ConvLayer conv1, conv2, deconv1, deconv2;  // conv only
  Arch arch = Arch::mlp;
  int64_t total = 0;          // floats, including alignment padding
  std::vector<const Linear*> layers() const {
    if (arch == Arch::conv) return {&fc2, &fc3};
    return {&fc1, &fc2, &fc3, &fc4};
  }
  std::vector<const ConvLayer*> conv_layers() const {
    if (arch == Arch::conv) return {&conv1, &conv2, &deconv1, &deconv2};
    return {};
  }
};

// Every activation and gradient buffer of one step, sized once for `capacity` rows:
// nothing is allocated while training (docs/DESIGN.md decision 4).
struct Workspace {
  int capacity = 0;
  Buffer encoder_in;  // [cap, encoder_in]  x/255 (| one-hot)   (conv: [cap, pixels])
  Buffer h1;          // [cap, hidden]                         (mlp only)
  Buffer mu_logvar;   // [cap, 2·latent]
  Buffer decoder_in;  // [cap, decoder_in]  z (| one-hot)
  Buffer h3;          // [cap, decoder_hidden]
  Buffer logits;      // [cap, pixels]
  Buffer kl, bce;     // [cap]
  Buffer chosen;      // [cap] int32: prior mean used by each sample
  // gradients (training only)
  Buffer d_logits, d_h3, d_z, d_mu_logvar, d_h1;
  // conv only (h3 is then the decoder's dense output, [cap, conv_features], and encoder_in the
  // pixels alone): activations after bias + ReLU, channels-last
  Buffer one_hot;     // [cap, classes] (CVAE)
  Buffer c1, c2;      // encoder: [cap, side/2, side/2, conv1], [cap, side/4, side/4, conv2]
  Buffer deconv1_out; // decoder: [cap, side/2, side/2, conv1] (d_ prefixes a gradient)
  Buffer d_c1, d_c2, d_deconv1_out;
  Buffer conv_scratch;  // the largest scratch any conv op of the step needs (conv_prepare)
  size_t conv_scratch_bytes = 0;
};

// Everything one forward pass reads besides the workspace.
struct BatchInput {
  const uint8_t* images = nullptr;   // data set, backend memory, [count, pixels]
  const int32_t* labels = nullptr;   // data set labels, backend memory
  const int32_t* indices = nullptr;  // [batch] rows of this batch, backend memory
  int batch = 0;
};

// One architecture's own half of the model: its encoder (the batch → ws.mu_logvar), decoder
// (ws.decoder_in → ws.logits) and their backward passes (ws.d_logits → ws.d_h3, the gradient of
// fc3's output before its ReLU; ws.d_mu_logvar, fc2's bias gradient already taken → the first
// layer's gradients). The model runs the loss, the reparameterisation and fc3 around them
// (engine/nn/model.h), the same for every architecture.
struct NetPasses {
  void (*encode)(Backend& backend, const ModelShape& shape, const ParamLayout& layout, const float* params,
                 Workspace& ws, const BatchInput& input);
  void (*decode)(Backend& backend, const ModelShape& shape, const ParamLayout& layout, const float* params,
                 Workspace& ws, int batch);
  void (*backward_decoder)(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                           const float* params, float* grads, Workspace& ws, int batch);
  void (*backward_encoder)(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                           const float* params, float* grads, Workspace& ws, int batch);
};

}  // namespace cvae

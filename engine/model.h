// The paper's MLP VAE (and CVAE): encoder  in → hidden (ReLU) → [μ | log σ²]  and
// decoder  latent (+ one-hot label for CVAE) → hidden (ReLU) → pixels logits.
// Parameters live in one flat buffer (DESIGN.md decision 3); each layer is a view into it.
// Every numeric step is a Backend call, so the same code runs on the CPU and the GPU.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/backend.h"

namespace cvae {

struct ModelShape {
  int pixels = 784;
  int classes = 10;
  int hidden = 400;
  int latent = 20;
  bool conditional = false;  // CVAE: one-hot label appended to the encoder input and to z

  int encoder_in() const { return pixels + (conditional ? classes : 0); }
  int decoder_in() const { return latent + (conditional ? classes : 0); }
};

// A dense layer y = x Wᵀ + b with W stored [out, in] as in PyTorch.
struct Linear {
  std::string name;
  int in = 0, out = 0;
  int64_t weight_offset = 0, bias_offset = 0;  // in floats, into the flat parameter buffer
};

struct ParamLayout {
  Linear fc1, fc2, fc3, fc4;  // encoder hidden, encoder [μ|log σ²], decoder hidden, decoder out
  int64_t total = 0;          // floats, including alignment padding
  std::vector<const Linear*> layers() const { return {&fc1, &fc2, &fc3, &fc4}; }
};

ParamLayout make_param_layout(const ModelShape& shape);

// PyTorch's default nn.Linear initialisation: W and b ~ U(−1/√in, 1/√in), drawn from Philox.
std::vector<float> init_params(const ParamLayout& layout, uint64_t seed);

// Every activation and gradient buffer of one step, sized once for `capacity` rows:
// nothing is allocated while training (DESIGN.md decision 4).
struct Workspace {
  int capacity = 0;
  Buffer encoder_in;  // [cap, encoder_in]  x/255 (| one-hot)
  Buffer h1;          // [cap, hidden]
  Buffer mu_logvar;   // [cap, 2·latent]
  Buffer decoder_in;  // [cap, decoder_in]  z (| one-hot)
  Buffer h3;          // [cap, hidden]
  Buffer logits;      // [cap, pixels]
  Buffer kl, bce;     // [cap]
  Buffer chosen;      // [cap] int32: prior mean used by each sample
  // gradients (training only)
  Buffer d_logits, d_h3, d_z, d_mu_logvar, d_h1;
};

Workspace make_workspace(Backend& backend, const ModelShape& shape, int capacity, bool training);

// Everything one forward pass reads besides the workspace.
struct BatchInput {
  const uint8_t* images = nullptr;   // data set, backend memory, [count, pixels]
  const int32_t* labels = nullptr;   // data set labels, backend memory
  const int32_t* indices = nullptr;  // [batch] rows of this batch, backend memory
  int batch = 0;
};

// Forward: fills encoder_in … logits, kl and bce (per sample) in the workspace; with `training`
// also d_logits (the BCE gradient of the batch mean), which model_backward starts from.
void model_forward(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                   const float* params, Workspace& ws, const BatchInput& input,
                   const PriorArgs& prior, RngPosition rng, uint32_t batch_offset, bool sample,
                   bool training);

// Encoder only: μ and log σ² of a batch into ws.mu_logvar.
void model_encode(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                  const float* params, Workspace& ws, const BatchInput& input);

// Decoder only: logits for z already written into ws.decoder_in (with the one-hot for CVAE).
void model_decode(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                  const float* params, Workspace& ws, int batch);

// Backward of  mean_i (bce_i + kl_weight · kl_i)  after model_forward (sample = true, training = true,
// the same rng and batch_offset): writes the
// whole gradient buffer (every entry, so it needs no zeroing).
void model_backward(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                    const float* params, float* grads, Workspace& ws, const BatchInput& input,
                    const PriorArgs& prior, RngPosition rng, uint32_t batch_offset,
                    float kl_weight);

}  // namespace cvae

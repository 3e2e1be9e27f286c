// The VAE's networks, whichever the architecture: the parameter layout and its checkpoint names,
// the initialisation, the workspace, and forward / backward passes that run the loss around the
// architecture's own encoder and decoder. arch=mlp, the paper's MLP VAE (and CVAE):
// engine/nn/mlp.h; arch=conv, two 4×4 stride-2 convolutions in, two transposed out:
// engine/nn/conv_net.h.
// Parameters live in one flat buffer (docs/DESIGN.md decision 3); each layer is a view into it.
// Every numeric step is a Backend call, so the same code runs on the CPU and the GPU.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/nn/net.h"

namespace cvae {

// The checkpoint's names: the PyTorch VAE example's (fc1, fc21, fc22, fc3, fc4) for mlp;
// conv1, conv2, fc21, fc22, fc3, deconv1, deconv2 for conv (filters channels-last, see ConvGeometry).
std::vector<NamedParam> named_params(const ParamLayout& layout, const ModelShape& shape);

ParamLayout make_param_layout(const ModelShape& shape);

// PyTorch's default initialisation, drawn from Philox: W and b ~ U(−1/√fan_in, 1/√fan_in) with
// fan_in = in (Linear), in·k² (Conv2d) and, as PyTorch computes it for ConvTranspose2d, out·k².
std::vector<float> init_params(const ParamLayout& layout, uint64_t seed);

Workspace make_workspace(Backend& backend, const ModelShape& shape, int capacity, bool training);

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

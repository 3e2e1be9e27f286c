// The paper's MLP VAE (arch=mlp, and its CVAE):
//
//   encoder  x/255 (| one-hot, CVAE) ─fc1, ReLU→ hidden ─fc2→ [μ | log σ²]
//   decoder  z (| one-hot) ─fc3, ReLU→ hidden ─fc4→ pixel logits
//
// The four layers are PyTorch's VAE example's (fc2 is its fc21 and fc22 side by side).
#pragma once
#include "engine/backend/backend.h"
#include "engine/nn/net.h"

namespace cvae {

// Gathers the batch (with the one-hot for CVAE) and fills ws.mu_logvar.
void mlp_encode(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                const float* params, Workspace& ws, const BatchInput& input);

// ws.decoder_in → ws.logits.
void mlp_decode(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                const float* params, Workspace& ws, int batch);

// From ws.d_logits to ws.d_h3 (the gradient of fc3's output, before its ReLU), with fc4's gradients.
void mlp_backward_decoder(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                          const float* params, float* grads, Workspace& ws, int batch);

// From ws.d_mu_logvar (fc2's bias gradient already taken) to fc1's gradients.
void mlp_backward_encoder(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                          const float* params, float* grads, Workspace& ws, int batch);

}  // namespace cvae

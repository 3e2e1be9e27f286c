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

// The MLP's passes (NetPasses, engine/nn/net.h).
const NetPasses& mlp_passes();

}  // namespace cvae

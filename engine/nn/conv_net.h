// The convolutional VAE (arch=conv), for one-channel side×side images (side a multiple of 4):
//
//   encoder  x [side, side, 1] ─conv1 4×4/2, ReLU→ [side/2, side/2, c1] ─conv2 4×4/2, ReLU→
//            [side/4, side/4, c2] ─flatten (| one-hot, CVAE)─ fc2 → [μ | log σ²]
//   decoder  z (| one-hot) ─fc3, ReLU→ [side/4, side/4, c2] ─deconv1 4×4/2, ReLU→
//            [side/2, side/2, c1] ─deconv2 4×4/2→ [side, side, 1] logits
//
// All activations are channels-last (NHWC), so the flattened features are plain rows for the
// dense layers and every bias is a bias_act over [pixels, channels]. Why this net:
// docs/conv-net.md, "Why this net".
#pragma once
#include "engine/backend/backend.h"
#include "engine/nn/net.h"

namespace cvae {

// The conv buffers of a workspace (and its scratch, from the backend's conv_prepare).
void add_conv_buffers(Backend& backend, const ModelShape& shape, const ParamLayout& layout,
                      Workspace& ws, bool training);

// The conv net's passes (NetPasses, engine/nn/net.h).
const NetPasses& conv_passes();

}  // namespace cvae

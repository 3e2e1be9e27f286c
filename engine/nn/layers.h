// The layers both networks are built from, as Backend calls on views of the flat parameter
// buffer: dense (y = x Wᵀ + b) and convolution / transposed convolution with a bias, each followed
// by an activation. Backward passes start from dy already through the activation's derivative.
#pragma once
#include "engine/backend/backend.h"
#include "engine/nn/net.h"

namespace cvae {

// y[batch, out] = act(x[batch, in] Wᵀ + b).
void linear_forward(Backend& backend, const Linear& layer, const float* params, const float* x,
                    int ld_x, int batch, float* y, Activation act);

// dW = dyᵀ x.
void linear_backward_weights(Backend& backend, const Linear& layer, float* grads, const float* x,
                             int ld_x, int batch, const float* dy);

// dx[batch, columns] = dy W[:, :columns]: the gradient of the first `columns` inputs (a layer
// whose last inputs are a one-hot label needs none for those).
void linear_backward_data(Backend& backend, const Linear& layer, const float* params, const float* dy,
                          int batch, int columns, float* dx, int ld_dx);

// y = act(conv(x) + b), or for a transposed layer y = act(convᵀ(x) + b); channels-last.
void conv_layer_forward(Backend& backend, const ConvLayer& layer, const float* params,
                        const float* x, int batch, float* y, Activation act, Workspace& ws);

// Given dy through the activation: the bias and weight gradients into `grads`, and dx when it
// is not null.
void conv_layer_backward(Backend& backend, const ConvLayer& layer, const float* params,
                         float* grads, const float* x, const float* y, float* dy, int batch,
                         Activation act, float* dx, Workspace& ws);

}  // namespace cvae

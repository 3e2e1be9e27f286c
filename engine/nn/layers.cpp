#include "engine/nn/layers.h"

namespace cvae {

void linear_forward(Backend& backend, const Linear& layer, const float* params, const float* x,
                    int ld_x, int batch, float* y, Activation act) {
  backend.linear_bias_act(batch, layer.out, layer.in, x, ld_x, params + layer.weight_offset,
                          params + layer.bias_offset, y, layer.out, act);
}

void linear_backward_weights(Backend& backend, const Linear& layer, float* grads, const float* x,
                             int ld_x, int batch, const float* dy) {
  backend.gemm(true, false, layer.out, layer.in, batch, 1.0f, dy, layer.out, x, ld_x, 0.0f,
               grads + layer.weight_offset, layer.in);
}

void linear_backward_data(Backend& backend, const Linear& layer, const float* params, const float* dy,
                          int batch, int columns, float* dx, int ld_dx) {
  backend.gemm(false, false, batch, columns, layer.out, 1.0f, dy, layer.out, params + layer.weight_offset,
               layer.in, 0.0f, dx, ld_dx);
}

namespace {
// Rows of the layer's output as a [rows, channels] matrix (channels-last), for the bias.
int output_rows(const ConvLayer& layer, int batch) {
  const ConvGeometry& g = layer.geometry;
  return layer.transposed ? batch * g.height * g.width : batch * g.out_height() * g.out_width();
}
}  // namespace

void conv_layer_forward(Backend& backend, const ConvLayer& layer, const float* params,
                        const float* x, int batch, float* y, Activation act, Workspace& ws) {
  const ConvGeometry g = layer.at(batch);
  const float* w = params + layer.weight_offset;
  void* scratch = ws.conv_scratch.as<void>();
  if (layer.transposed)
    backend.conv_backward_data(g, x, w, y, scratch, ws.conv_scratch_bytes);
  else
    backend.conv_forward(g, x, w, y, scratch, ws.conv_scratch_bytes);
  backend.bias_act_forward(y, layer.outputs(), params + layer.bias_offset,
                           output_rows(layer, batch), layer.outputs(), act);
}

// For a transposed layer y = Cᵀ(x) with C the convolution of `geometry`:
// ⟨y, dy⟩ = ⟨x, C(dy)⟩, so dx = C(dy) (a forward convolution) and dW is the convolution's weight
// gradient with the roles of its input and output swapped (input dy, output gradient x).
void conv_layer_backward(Backend& backend, const ConvLayer& layer, const float* params,
                         float* grads, const float* x, const float* y, float* dy, int batch,
                         Activation act, float* dx, Workspace& ws) {
  const ConvGeometry g = layer.at(batch);
  const float* w = params + layer.weight_offset;
  void* scratch = ws.conv_scratch.as<void>();
  const size_t bytes = ws.conv_scratch_bytes;
  backend.bias_act_backward(dy, layer.outputs(), y, layer.outputs(), grads + layer.bias_offset,
                            output_rows(layer, batch), layer.outputs(), act);
  if (layer.transposed) {
    backend.conv_backward_weights(g, dy, x, grads + layer.weight_offset, scratch, bytes);
    if (dx) backend.conv_forward(g, dy, w, dx, scratch, bytes);
  } else {
    backend.conv_backward_weights(g, x, dy, grads + layer.weight_offset, scratch, bytes);
    if (dx) backend.conv_backward_data(g, dy, w, dx, scratch, bytes);
  }
}

}  // namespace cvae

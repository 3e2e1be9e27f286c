// CPU reference: bias + activation forward and backward (twin of kernels/bias_act.cu).
#pragma once
#include "engine/backend/backend.h"

namespace cvae::cpu {

// y = act(y + bias), in place.
template <class T>
void bias_act_forward(T* y, int ld, const T* bias, int rows, int cols, Activation act) {
#pragma omp parallel for schedule(static) if (rows * cols > 65536)
  for (int r = 0; r < rows; ++r) {
    T* row = y + static_cast<int64_t>(r) * ld;
    if (act == Activation::relu) {
      for (int c = 0; c < cols; ++c) {
        T v = row[c] + bias[c];
        row[c] = v > T(0) ? v : T(0);
      }
    } else {
      for (int c = 0; c < cols; ++c) row[c] += bias[c];
    }
  }
}

// dy ← dy ⊙ act'(y) (y = the activation's output, relu'(y) = [y > 0]); dbias = Σ_rows dy.
template <class T>
void bias_act_backward(T* dy, int ld_dy, const T* y, int ld_y, T* dbias, int rows, int cols,
                       Activation act) {
  if (act == Activation::relu) {
#pragma omp parallel for schedule(static) if (rows * cols > 65536)
    for (int r = 0; r < rows; ++r) {
      T* grad = dy + static_cast<int64_t>(r) * ld_dy;
      const T* out = y + static_cast<int64_t>(r) * ld_y;
      for (int c = 0; c < cols; ++c) grad[c] = out[c] > T(0) ? grad[c] : T(0);
    }
  }
  if (dbias == nullptr) return;
  for (int c = 0; c < cols; ++c) dbias[c] = T(0);
  // Rows in order, so the sum is the same on every run and thread count.
  for (int r = 0; r < rows; ++r) {
    const T* grad = dy + static_cast<int64_t>(r) * ld_dy;
    for (int c = 0; c < cols; ++c) dbias[c] += grad[c];
  }
}

}  // namespace cvae::cpu

// CPU reference: binary cross-entropy with logits (twin of kernels/bce.cu).
//   loss_i = Σ_j max(l_ij, 0) − l_ij·x_ij + log(1 + exp(−|l_ij|)),   x = image/255
//   ∂loss_i/∂l_ij = sigmoid(l_ij) − x_ij
// The stable form never exponentiates a positive number, so large logits cannot overflow.
#pragma once
#include <cmath>
#include <cstdint>

#include "engine/backend/cpu/fast_math.h"

namespace cvae::cpu {

template <class T>
void bce_with_logits(const T* logits, const uint8_t* images, const int32_t* indices, int batch,
                     int pixels, T grad_scale, T* loss, T* dlogits) {
  const T inv255 = T(1) / T(255);
#pragma omp parallel for schedule(static)
  for (int i = 0; i < batch; ++i) {
    const T* l = logits + static_cast<int64_t>(i) * pixels;
    const uint8_t* image = images + static_cast<int64_t>(indices[i]) * pixels;
    T* grad = dlogits ? dlogits + static_cast<int64_t>(i) * pixels : nullptr;
    T sum = 0;
    if (grad) {
#pragma omp simd reduction(+ : sum)
      for (int j = 0; j < pixels; ++j) {
        T x = static_cast<T>(image[j]) * inv255;
        T e = exp_nonpositive(-std::fabs(l[j]));  // in (0, 1]
        T positive = l[j] > T(0) ? l[j] : T(0);
        sum += positive - l[j] * x + log1p_unit(e);
        T sigmoid = (l[j] >= T(0) ? T(1) : e) / (T(1) + e);
        grad[j] = grad_scale * (sigmoid - x);
      }
    } else {
#pragma omp simd reduction(+ : sum)
      for (int j = 0; j < pixels; ++j) {
        T x = static_cast<T>(image[j]) * inv255;
        T e = exp_nonpositive(-std::fabs(l[j]));
        T positive = l[j] > T(0) ? l[j] : T(0);
        sum += positive - l[j] * x + log1p_unit(e);
      }
    }
    loss[i] = sum;
  }
}

}  // namespace cvae::cpu

// CPU reference: Adam over the flat parameter buffer (twin of kernels/adam.cu), PyTorch semantics:
//   m ← β1 m + (1−β1) g,  v ← β2 v + (1−β2) g²,
//   p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + eps)
#pragma once
#include <cmath>
#include <cstdint>

#include "engine/backend/backend.h"

namespace cvae::cpu {

template <class T>
void adam_step(T* params, const T* grads, T* m, T* v, int64_t count, const AdamArgs& args) {
  // A replayed step's constants live in memory (StepState), written by advance_step.
  const AdamCorrection c = adam_correction(static_cast<double>(args.step), args.lr, args.beta1, args.beta2);
  const T step_size = static_cast<T>(args.constants_in_memory ? args.constants_in_memory[0] : c.step_size);
  const T inv_sqrt_correction2 =
      static_cast<T>(args.constants_in_memory ? args.constants_in_memory[1] : c.inv_sqrt_correction2);
  const T beta1 = args.beta1, beta2 = args.beta2, eps = args.eps;
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < count; ++i) {
    T g = grads[i];
    m[i] = beta1 * m[i] + (T(1) - beta1) * g;
    v[i] = beta2 * v[i] + (T(1) - beta2) * g * g;
    params[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_correction2 + eps);
  }
}

}  // namespace cvae::cpu

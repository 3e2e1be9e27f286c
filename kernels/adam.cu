// Adam over the flat parameter buffer, PyTorch semantics (CPU twin: engine/backend/cpu/adam.h):
//   m ← β1 m + (1 − β1) g,   v ← β2 v + (1 − β2) g²
//   p ← p − step_size · m / (√v · inv_sqrt_correction2 + eps)
//   step_size = lr / (1 − β1ᵗ),  inv_sqrt_correction2 = 1 / √(1 − β2ᵗ)   (engine/backend/step_math.h;
//   a replayed step reads both from device memory, StepState, written by advance_step)
// Vectorised: when the four buffers are 16-byte aligned each thread updates a float4 of each
// (grid-stride); the count % 4 elements left over (or all of them, when unaligned) go one by one.
#include <cmath>

#include "kernels/kernels.h"
#include "kernels/vector_access.cuh"

namespace cvae::kernels {

namespace {

struct AdamConstants {
  float beta1, beta2, eps, step_size, inv_sqrt_correction2;
};

__device__ __forceinline__ void adam_update(float& p, float g, float& m, float& v,
                                            const AdamConstants& c) {
  m = c.beta1 * m + (1.0f - c.beta1) * g;
  v = c.beta2 * v + (1.0f - c.beta2) * g * g;
  p -= c.step_size * m / (sqrtf(v) * c.inv_sqrt_correction2 + c.eps);
}

// Elements [0, 4·vectors) as float4s, then [scalar_start, count) one by one.
__global__ void adam_kernel(float* params, const float* grads, float* m, float* v,
                            int64_t vectors, int64_t scalar_start, int64_t count, AdamConstants c,
                            const float* constants_in_memory) {
  if (constants_in_memory) {
    c.step_size = constants_in_memory[0];
    c.inv_sqrt_correction2 = constants_in_memory[1];
  }
  const int64_t first = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t q = first; q < vectors; q += stride) {
    float4 p4 = float4_at(params, q);
    const float4 g4 = float4_at(grads, q);
    float4 m4 = float4_at(m, q);
    float4 v4 = float4_at(v, q);
    adam_update(p4.x, g4.x, m4.x, v4.x, c);
    adam_update(p4.y, g4.y, m4.y, v4.y, c);
    adam_update(p4.z, g4.z, m4.z, v4.z, c);
    adam_update(p4.w, g4.w, m4.w, v4.w, c);
    float4_at(params, q) = p4;
    float4_at(m, q) = m4;
    float4_at(v, q) = v4;
  }
  for (int64_t e = scalar_start + first; e < count; e += stride)
    adam_update(params[e], grads[e], m[e], v[e], c);
}

bool aligned16(const void* pointer) { return reinterpret_cast<uintptr_t>(pointer) % 16 == 0; }

}  // namespace

void adam_step(float* params, const float* grads, float* m, float* v, int64_t count,
               const AdamArgs& args, cudaStream_t stream) {
  if (count <= 0) return;
  const AdamCorrection correction = adam_correction(double(args.step), args.lr, args.beta1, args.beta2);
  AdamConstants c;
  c.beta1 = args.beta1;
  c.beta2 = args.beta2;
  c.eps = args.eps;
  c.step_size = correction.step_size;
  c.inv_sqrt_correction2 = correction.inv_sqrt_correction2;
  const bool vectorised = aligned16(params) && aligned16(grads) && aligned16(m) && aligned16(v);
  const int64_t vectors = vectorised ? count / 4 : 0;
  constexpr int kThreads = 256;
  CVAE_LAUNCH(adam_kernel, grid_for(vectors > 0 ? vectors : count, kThreads), kThreads, 0, stream)(
      params, grads, m, v, vectors, 4 * vectors, count, c, args.constants_in_memory);
  CVAE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace cvae::kernels

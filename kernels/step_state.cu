// The training step's varying inputs in device memory (engine/backend/backend.h, StepState; CPU twin:
// engine/backend/cpu/step_state.h), so that one recorded step (a CUDA Graph) can be replayed:
//   select_batch:  batch_indices[i] = order[state.start + i]
//   advance_step:  start += batch, step += 1,
//                  step_size = lr / (1 − β1ᵗ), inv_sqrt_correction2 = 1 / √(1 − β2ᵗ)  (one thread,
//                  engine/backend/step_math.h: the host's own function)
#include <cmath>

#include "kernels/kernels.h"

namespace cvae::kernels {

namespace {

__global__ void select_batch_kernel(const int32_t* order, const StepState* state, int batch,
                                    int32_t* batch_indices) {
  const int64_t start = state->start;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < batch; i += gridDim.x * blockDim.x)
    batch_indices[i] = order[start + i];
}

__global__ void advance_step_kernel(StepState* state, int batch, float lr, float beta1,
                                    float beta2) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  const uint32_t step = state->step + 1;
  const AdamCorrection c = adam_correction(double(step), lr, beta1, beta2);
  state->step = step;
  state->start += batch;
  state->adam_step_size = c.step_size;
  state->adam_inv_sqrt_correction2 = c.inv_sqrt_correction2;
}

}  // namespace

void select_batch(const int32_t* order, const StepState* state, int batch, int32_t* batch_indices,
                  cudaStream_t stream) {
  if (batch <= 0) return;
  constexpr int kThreads = 256;
  CVAE_LAUNCH(select_batch_kernel, grid_for(batch, kThreads), kThreads, 0, stream)(
      order, state, batch, batch_indices);
  CVAE_CUDA_CHECK(cudaGetLastError());
}

void advance_step(StepState* state, int batch, const AdamArgs& args, cudaStream_t stream) {
  CVAE_LAUNCH(advance_step_kernel, 1, 32, 0, stream)(state, batch, args.lr, args.beta1, args.beta2);
  CVAE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace cvae::kernels

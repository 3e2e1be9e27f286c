// Fill: data[e] = value for e in [0, count). Used for Backend::fill (e.g. the NaN poison of tests).
#include "kernels/kernels.h"

namespace cvae::kernels {

namespace {

__global__ void fill_kernel(float* data, int64_t count, float value) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < count;
       e += int64_t(gridDim.x) * blockDim.x)
    data[e] = value;
}

}  // namespace

void fill(float* data, int64_t count, float value, cudaStream_t stream) {
  if (count <= 0) return;
  constexpr int kThreads = 256;
  CVAE_LAUNCH(fill_kernel, grid_for(count, kThreads), kThreads, 0, stream)(data, count, value);
  CVAE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace cvae::kernels

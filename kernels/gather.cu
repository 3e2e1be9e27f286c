// The input batch, built on the device from the uint8 data set and the batch's row indices
// (CPU twin: engine/backend/cpu/gather.h):
//   gather_images:  x[i, j] = images[indices[i], j] · (1/255)      j < pixels, written at ld_x
//   write_one_hot:  x[i, c] = [c = labels[indices[i]]]             c < classes, written at ld_x
// One thread per output element (grid-stride); columns beyond the row (ld_x > width) are untouched.
// x/255 is computed as x · fl(1/255), exactly the CPU's float expression.
#include "kernels/kernels.h"

namespace cvae::kernels {

namespace {

__global__ void gather_images_kernel(const uint8_t* images, const int32_t* indices, int batch,
                                     int pixels, float* x, int ld_x) {
  const int64_t total = int64_t(batch) * pixels;
  const float inv255 = 1.0f / 255.0f;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int i = int(e / pixels), j = int(e - int64_t(i) * pixels);
    x[int64_t(i) * ld_x + j] = float(images[int64_t(indices[i]) * pixels + j]) * inv255;
  }
}

__global__ void write_one_hot_kernel(const int32_t* labels, const int32_t* indices, int batch,
                                     int classes, float* x, int ld_x) {
  const int64_t total = int64_t(batch) * classes;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int i = int(e / classes), c = int(e - int64_t(i) * classes);
    x[int64_t(i) * ld_x + c] = c == labels[indices[i]] ? 1.0f : 0.0f;
  }
}

}  // namespace

void gather_images(const uint8_t* images, const int32_t* indices, int batch, int pixels, float* x,
                   int ld_x, cudaStream_t stream) {
  const int64_t total = int64_t(batch) * pixels;
  if (total <= 0) return;
  constexpr int kThreads = 256;
  CVAE_LAUNCH(gather_images_kernel, grid_for(total, kThreads), kThreads, 0, stream)(
      images, indices, batch, pixels, x, ld_x);
  CVAE_CUDA_CHECK(cudaGetLastError());
}

void write_one_hot(const int32_t* labels, const int32_t* indices, int batch, int classes, float* x,
                   int ld_x, cudaStream_t stream) {
  const int64_t total = int64_t(batch) * classes;
  if (total <= 0) return;
  constexpr int kThreads = 256;
  CVAE_LAUNCH(write_one_hot_kernel, grid_for(total, kThreads), kThreads, 0, stream)(
      labels, indices, batch, classes, x, ld_x);
  CVAE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace cvae::kernels

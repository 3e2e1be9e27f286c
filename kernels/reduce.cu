// Running sums kept on the device (epoch totals of the loss terms, read once per epoch):
//   acc[0] ← acc[0] + Σ_{i < count} values[i],   summed in double
// One block: each thread sums a strided slice in double, then a deterministic block sum
// (kernels/reductions.cuh); thread 0 adds it to the accumulator. No atomics, so the total is the
// same on every run. The counts here are batch sizes (a few thousand at most), so one block suffices.
#include "kernels/kernels.h"
#include "kernels/reductions.cuh"

namespace cvae::kernels {

namespace {

constexpr int kThreads = 256;

__global__ void accumulate_sum_kernel(const float* values, int count, double* acc) {
  double sum = 0.0;
  for (int i = threadIdx.x; i < count; i += kThreads) sum += double(values[i]);
  sum = block_sum<kThreads>(sum);
  if (threadIdx.x == 0) acc[0] += sum;
}

}  // namespace

void accumulate_sum(const float* values, int count, double* acc, cudaStream_t stream) {
  if (count <= 0) return;
  CVAE_LAUNCH(accumulate_sum_kernel, 1, kThreads, 0, stream)(values, count, acc);
  CVAE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace cvae::kernels

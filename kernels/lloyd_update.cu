// The rest of a Lloyd iteration on the device, so that the driver (engine/prior/kmeans.cpp) reads back
// only two numbers per iteration (CPU twins in engine/backend/cpu/lloyd.h):
//   changes:  status[0] = |{i : a_i ≠ previous_i}|, then previous ← a
//   update:   c_k = S_k / n_k where n_k > 0 (an empty cluster keeps its centroid);
//             status[1] = |{k : n_k = 0}|
// Changes: one pass, each block counts its points (shared-memory tree) and adds its count to
// status[0] with one integer atomicAdd — a count, so the order of the adds cannot change it; a
// first one-thread launch zeroes it. Update: one thread per (cluster, column) divides exactly as
// the CPU does (one IEEE division), and thread 0 of block 0 counts the empty clusters in order.
#include "kernels/kernels.h"

namespace cvae::kernels {

namespace {

constexpr int kThreads = 256;

__global__ void zero_status_kernel(int32_t* status) {
  if (threadIdx.x == 0 && blockIdx.x == 0) status[0] = 0;
}

__global__ void lloyd_count_changes_kernel(const int32_t* assignment, int32_t* previous, int n,
                                           int32_t* status) {
  __shared__ int32_t partial[kThreads];
  int32_t changed = 0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    changed += assignment[i] != previous[i] ? 1 : 0;
    previous[i] = assignment[i];
  }
  partial[threadIdx.x] = changed;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (int(threadIdx.x) < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0 && partial[0] != 0) atomicAdd(status, partial[0]);
}

__global__ void lloyd_update_kernel(const float* sums, const float* counts, int k, int dim,
                                    float* centroids, int32_t* status) {
  const int64_t slots = int64_t(k) * dim;
  for (int64_t s = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; s < slots;
       s += int64_t(gridDim.x) * blockDim.x) {
    const int c = int(s / dim);
    if (counts[c] > 0.0f) centroids[s] = sums[s] / counts[c];
  }
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    int32_t empty = 0;
    for (int c = 0; c < k; ++c) empty += counts[c] > 0.0f ? 0 : 1;
    status[1] = empty;
  }
}

}  // namespace

void lloyd_count_changes(const int32_t* assignment, int32_t* previous, int n, int32_t* status,
                         cudaStream_t stream) {
  CVAE_LAUNCH(zero_status_kernel, 1, 32, 0, stream)(status);
  CVAE_CUDA_CHECK(cudaGetLastError());
  if (n <= 0) return;
  CVAE_LAUNCH(lloyd_count_changes_kernel, grid_for(n, kThreads, 1024), kThreads, 0, stream)(
      assignment, previous, n, status);
  CVAE_CUDA_CHECK(cudaGetLastError());
}

void lloyd_update(const float* sums, const float* counts, int k, int dim, float* centroids,
                  int32_t* status, cudaStream_t stream) {
  if (k <= 0) return;
  const int64_t slots = int64_t(k) * (dim > 0 ? dim : 1);
  CVAE_LAUNCH(lloyd_update_kernel, grid_for(slots, kThreads), kThreads, 0, stream)(
      sums, counts, k, dim, centroids, status);
  CVAE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace cvae::kernels

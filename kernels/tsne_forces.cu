// The two sums of the t-SNE gradient on the device, exact over all pairs (CPU twin:
// engine/cpu/tsne_forces.h, which states them):
//   sum_q[i] = Σ_{j≠i} w_ij,  repulsive[i] = Σ_{j≠i} w_ij² (y_i − y_j),  w_ij = (1 + ‖y_i − y_j‖²)⁻¹;
//   attractive[i] = Σ_{e in row i} p_e w_i,col(e) (y_i − y_col(e)).
// Why exact rather than Barnes–Hut on the GPU: for the report's 10,000 points the all-pairs sum is
// 10⁸ pairs per iteration, a few milliseconds in double on a data-centre GPU, with no tree to build;
// and it is the θ = 0 gradient the CPU's tests already check. The classic tiled n-body pattern: one
// thread per point i; the block loads a tile of positions into shared memory and every thread walks
// it, so each y_j is read from global memory once per block. j runs in index order for every i
// (the CPU's order); the tail of the last tile is guarded, not padded.
#include "kernels/kernels.h"

namespace cvae::kernels {

namespace {

constexpr int kTile = 128;

__global__ void tsne_forces_kernel(const double* y, int n, const int64_t* row_start,
                                   const int32_t* column, const double* value, double* sum_q,
                                   double* repulsive, double* attractive) {
  __shared__ double tile_x[kTile];
  __shared__ double tile_y[kTile];
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  const bool active = i < n;
  const double xi = active ? y[2 * i] : 0.0, yi = active ? y[2 * i + 1] : 0.0;
  double s = 0.0, rx = 0.0, ry = 0.0;
  for (int first = 0; first < n; first += kTile) {
    const int j_load = first + int(threadIdx.x);
    if (j_load < n) {
      tile_x[threadIdx.x] = y[2 * j_load];
      tile_y[threadIdx.x] = y[2 * j_load + 1];
    }
    __syncthreads();
    const int count = n - first < kTile ? n - first : kTile;
    if (active) {
      for (int t = 0; t < count; ++t) {
        if (first + t == i) continue;
        const double ex = xi - tile_x[t], ey = yi - tile_y[t];
        const double w = 1.0 / (1.0 + ex * ex + ey * ey);
        s += w;
        rx += w * w * ex;
        ry += w * w * ey;
      }
    }
    __syncthreads();
  }
  if (!active) return;
  sum_q[i] = s;
  repulsive[2 * i] = rx;
  repulsive[2 * i + 1] = ry;
  double ax = 0.0, ay = 0.0;
  for (int64_t e = row_start[i]; e < row_start[i + 1]; ++e) {
    const int32_t j = column[e];
    const double ex = xi - y[2 * j], ey = yi - y[2 * j + 1];
    const double w = value[e] / (1.0 + ex * ex + ey * ey);
    ax += w * ex;
    ay += w * ey;
  }
  attractive[2 * i] = ax;
  attractive[2 * i + 1] = ay;
}

}  // namespace

void tsne_forces(const double* y, int n, const int64_t* row_start, const int32_t* column,
                 const double* value, double* sum_q, double* repulsive, double* attractive,
                 cudaStream_t stream) {
  if (n <= 0) return;
  CVAE_LAUNCH(tsne_forces_kernel, unsigned((n + kTile - 1) / kTile), kTile, 0, stream)(
      y, n, row_start, column, value, sum_q, repulsive, attractive);
  CVAE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace cvae::kernels

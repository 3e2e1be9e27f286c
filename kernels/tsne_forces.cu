// The two sums of the t-SNE gradient on the device, exact over all pairs (CPU twin:
// engine/backend/cpu/tsne_forces.h, which states them):
//   sum_q[i] = Σ_{j≠i} w_ij,  repulsive[i] = Σ_{j≠i} w_ij² (y_i − y_j),  w_ij = (1 + ‖y_i − y_j‖²)⁻¹;
//   attractive[i] = Σ_{e in row i} p_e w_i,col(e) (y_i − y_col(e)).
// Why exact rather than Barnes–Hut on the GPU: for the report's 10,000 points the all-pairs sum is
// 10⁸ pairs per iteration, a few milliseconds in double on a data-centre GPU, with no tree to build;
// and it is the θ = 0 gradient the CPU's tests already check.
// The layout: a block takes 32 points i, one per lane, and its 8 warps split the j range into 8
// consecutive slices, one each. One thread per point alone gives only n / 32 warps (313 for 10,000
// points, fewer than an H200 has schedulers), each walking all n points j in a chain of dependent
// double adds; smaller blocks would only spread those same warps wider. Splitting j gives 8 times
// the warps, each with an eighth of the chain, and needs no scratch: the 8 partial sums of a point
// meet in shared memory, where warp 0 adds them in slice order. Each warp stages its slice's
// positions 32 at a time in shared memory, so a y_j is read from global memory once per block.
// Within a slice j runs in index order (the tail of a slice is guarded, not padded): the order of
// every sum depends on n alone, the same on every run; it groups the CPU's index-order sum into 8
// pieces, so the tests compare within a tolerance.
#include "kernels/kernels.h"

namespace cvae::kernels {

namespace {

constexpr int kPointsPerBlock = 32;  // the lanes of a warp
constexpr int kSlices = 8;           // the warps of a block

__global__ void tsne_forces_kernel(const double* y, int n, const int64_t* row_start,
                                   const int32_t* column, const double* value, double* sum_q,
                                   double* repulsive, double* attractive) {
  __shared__ double tile_x[kSlices][kPointsPerBlock];
  __shared__ double tile_y[kSlices][kPointsPerBlock];
  __shared__ double part_s[kSlices][kPointsPerBlock];
  __shared__ double part_x[kSlices][kPointsPerBlock];
  __shared__ double part_y[kSlices][kPointsPerBlock];
  const int lane = threadIdx.x, slice = threadIdx.y;
  const int i = blockIdx.x * kPointsPerBlock + lane;
  const bool active = i < n;
  const double xi = active ? y[2 * i] : 0.0, yi = active ? y[2 * i + 1] : 0.0;
  // this warp's slice of j: [slice_first, slice_end), empty for the last slices when n < 8
  const int slice_length = (n + kSlices - 1) / kSlices;
  const int slice_first = slice * slice_length;
  const int slice_end = slice_first + slice_length < n ? slice_first + slice_length : n;
  double s = 0.0, rx = 0.0, ry = 0.0;
  for (int first = slice_first; first < slice_first + slice_length; first += kPointsPerBlock) {
    const int j_load = first + lane;
    if (j_load < slice_end) {
      tile_x[slice][lane] = y[2 * j_load];
      tile_y[slice][lane] = y[2 * j_load + 1];
    }
    __syncwarp();
    const int count = slice_end - first < kPointsPerBlock ? slice_end - first : kPointsPerBlock;
    if (active) {
      for (int t = 0; t < count; ++t) {
        if (first + t == i) continue;
        const double ex = xi - tile_x[slice][t], ey = yi - tile_y[slice][t];
        const double w = 1.0 / (1.0 + ex * ex + ey * ey);
        s += w;
        rx += w * w * ex;
        ry += w * w * ey;
      }
    }
    __syncwarp();  // every lane has read the tile before the next round overwrites it
  }
  part_s[slice][lane] = s;
  part_x[slice][lane] = rx;
  part_y[slice][lane] = ry;
  __syncthreads();
  if (slice != 0 || !active) return;
  for (int k = 1; k < kSlices; ++k) {
    s += part_s[k][lane];
    rx += part_x[k][lane];
    ry += part_y[k][lane];
  }
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
  const unsigned blocks = unsigned((n + kPointsPerBlock - 1) / kPointsPerBlock);
  CVAE_LAUNCH(tsne_forces_kernel, blocks, dim3(kPointsPerBlock, kSlices), 0, stream)(
      y, n, row_start, column, value, sum_q, repulsive, attractive);
  CVAE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace cvae::kernels

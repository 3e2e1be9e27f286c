// The two halves of a Lloyd iteration on the device (CPU twin: engine/backend/cpu/lloyd.h):
//   assign:      a_i = argmin_k ‖p_i − c_k‖²   (the first k with the smallest distance),
//                distance_i = that squared distance
//   accumulate:  S_k = Σ_{i: a_i = k} p_i,  n_k = |{i : a_i = k}|   (overwritten, not added)
// Assign, direct form for the small K of this work: one thread per point walks the centroids in
// index order with the CPU's rule (a later centroid wins only when strictly closer); all threads of
// a warp read the same centroid element at once, a broadcast.
// Assign, GEMM route for large K (the CUDA backend picks it by K): ‖p − c‖² = ‖p‖² − 2p·c + ‖c‖²,
// and ‖p‖² is the same for every centroid, so a_i = argmin_k (‖c_k‖² − 2 p_i·c_k). The backend
// computes the dot products of a tile of rows with cuBLAS (dots = P·Cᵀ); squared_norms gives ‖c_k‖²;
// assign_from_dots takes one warp per row, the lanes over k, and a warp reduction that keeps the
// smaller score and, on equal scores, the lower k. The distance written out is then computed
// directly, ‖p_i − c_{a_i}‖², so it has no cancellation; only a near-tie (scores within the GEMM's
// rounding) can pick another centroid than the direct route would.
// Accumulate, deterministic and without atomics, in two passes:
//   1. the points are cut into chunks of consecutive rows; block b walks its chunk in row order and
//      adds each point into its own slice of `scratch` (double), thread j owning column j (column
//      `dim` counts the points), so no two threads touch one slot;
//   2. one thread per (cluster, column) adds the chunks' partial sums in chunk order and writes
//      sums / counts as float. Empty clusters come out as zero sums and zero counts.
#include "kernels/kernels.h"

namespace cvae::kernels {

namespace {

__global__ void lloyd_assign_kernel(const float* points, int n, int dim, int ld,
                                    const float* centroids, int k, int32_t* assignment,
                                    float* distance) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const float* p = points + i * ld;
    int best = 0;
    float best_distance = 0.0f;
    for (int c = 0; c < k; ++c) {
      const float* centre = centroids + int64_t(c) * dim;
      float d = 0.0f;
      for (int j = 0; j < dim; ++j) {
        const float diff = p[j] - centre[j];
        d += diff * diff;
      }
      if (c == 0 || d < best_distance) {
        best = c;
        best_distance = d;
      }
    }
    assignment[i] = best;
    if (distance) distance[i] = best_distance;
  }
}

__global__ void squared_norms_kernel(const float* rows, int n, int dim, int ld, float* norms) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    float s = 0.0f;
    for (int j = 0; j < dim; ++j) s += rows[i * ld + j] * rows[i * ld + j];
    norms[i] = s;
  }
}

__global__ void lloyd_assign_from_dots_kernel(const float* dots, int rows, int k,
                                              const float* points, int dim, int ld,
                                              const float* centroids, const float* centroid_norms,
                                              int32_t* assignment, float* distance) {
  const int lane = threadIdx.x % 32;
  const int64_t warps_per_grid = int64_t(gridDim.x) * (blockDim.x / 32);
  for (int64_t r = blockIdx.x * int64_t(blockDim.x / 32) + threadIdx.x / 32; r < rows;
       r += warps_per_grid) {
    float best_score = 0.0f;
    int best = -1;
    for (int c = lane; c < k; c += 32) {
      const float score = centroid_norms[c] - 2.0f * dots[r * k + c];
      if (best < 0 || score < best_score) {  // c rises: an equal score keeps the lower k
        best_score = score;
        best = c;
      }
    }
    for (int offset = 16; offset > 0; offset /= 2) {
      const float other_score = __shfl_down_sync(0xffffffffu, best_score, offset);
      const int other = __shfl_down_sync(0xffffffffu, best, offset);
      const bool take = other >= 0 && (best < 0 || other_score < best_score ||
                                       (other_score == best_score && other < best));
      if (take) {
        best_score = other_score;
        best = other;
      }
    }
    if (lane == 0) {
      assignment[r] = best;
      if (distance) {
        const float* p = points + r * ld;
        const float* centre = centroids + int64_t(best) * dim;
        float d = 0.0f;
        for (int j = 0; j < dim; ++j) {
          const float diff = p[j] - centre[j];
          d += diff * diff;
        }
        distance[r] = d;
      }
    }
  }
}

__global__ void lloyd_partial_sums_kernel(const float* points, int n, int dim, int ld,
                                          const int32_t* assignment, int k, int rows_per_chunk,
                                          double* scratch) {
  const int width = dim + 1;  // columns 0..dim−1: coordinates; column dim: the count
  double* partial = scratch + int64_t(blockIdx.x) * k * width;
  const int64_t first_row = int64_t(blockIdx.x) * rows_per_chunk;
  const int64_t end_row = first_row + rows_per_chunk < n ? first_row + rows_per_chunk : n;
  for (int j = threadIdx.x; j < width; j += blockDim.x) {
    for (int c = 0; c < k; ++c) partial[int64_t(c) * width + j] = 0.0;
    for (int64_t r = first_row; r < end_row; ++r) {
      const int c = assignment[r];
      if (c < 0 || c >= k) continue;  // not a cluster: ignored rather than written out of bounds
      partial[int64_t(c) * width + j] += j < dim ? double(points[r * ld + j]) : 1.0;
    }
  }
}

__global__ void lloyd_combine_kernel(int dim, int k, int chunks, const double* scratch,
                                     float* sums, float* counts) {
  const int width = dim + 1;
  const int64_t slots = int64_t(k) * width;
  for (int64_t s = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; s < slots;
       s += int64_t(gridDim.x) * blockDim.x) {
    double total = 0.0;
    for (int chunk = 0; chunk < chunks; ++chunk) total += scratch[chunk * slots + s];
    const int c = int(s / width), j = int(s - int64_t(c) * width);
    if (j < dim) sums[int64_t(c) * dim + j] = float(total);
    else counts[c] = float(total);
  }
}

}  // namespace

void lloyd_assign(const float* points, int n, int dim, int ld, const float* centroids, int k,
                  int32_t* assignment, float* distance, cudaStream_t stream) {
  if (n <= 0) return;
  constexpr int kThreads = 128;
  CVAE_LAUNCH(lloyd_assign_kernel, grid_for(n, kThreads), kThreads, 0, stream)(
      points, n, dim, ld, centroids, k, assignment, distance);
  CVAE_CUDA_CHECK(cudaGetLastError());
}

void squared_norms(const float* rows, int n, int dim, int ld, float* norms, cudaStream_t stream) {
  if (n <= 0) return;
  constexpr int kThreads = 128;
  CVAE_LAUNCH(squared_norms_kernel, grid_for(n, kThreads), kThreads, 0, stream)(rows, n, dim, ld,
                                                                                 norms);
  CVAE_CUDA_CHECK(cudaGetLastError());
}

void lloyd_assign_from_dots(const float* dots, int rows, int k, const float* points, int dim,
                            int ld, const float* centroids, const float* centroid_norms,
                            int32_t* assignment, float* distance, cudaStream_t stream) {
  if (rows <= 0) return;
  constexpr int kThreads = 256, kWarps = kThreads / 32;
  CVAE_LAUNCH(lloyd_assign_from_dots_kernel, grid_for(rows, kWarps), kThreads, 0, stream)(
      dots, rows, k, points, dim, ld, centroids, centroid_norms, assignment, distance);
  CVAE_CUDA_CHECK(cudaGetLastError());
}

int64_t lloyd_accumulate_scratch_doubles(int n, int dim, int k) {
  if (n <= 0) return 0;
  return int64_t(row_chunks_for(n).count) * k * (dim + 1);
}

void lloyd_accumulate(const float* points, int n, int dim, int ld, const int32_t* assignment, int k,
                      float* sums, float* counts, double* scratch, cudaStream_t stream) {
  if (k <= 0) return;
  const RowChunks chunks = row_chunks_for(n);
  if (chunks.count > 0) {
    // Threads over the dim + 1 columns, in whole warps, at most 256.
    const int columns = dim + 1;
    const int threads = columns >= 256 ? 256 : (columns + 31) / 32 * 32;
    CVAE_LAUNCH(lloyd_partial_sums_kernel, unsigned(chunks.count), threads, 0, stream)(
        points, n, dim, ld, assignment, k, chunks.rows_per_chunk, scratch);
    CVAE_CUDA_CHECK(cudaGetLastError());
  }
  constexpr int kThreads = 128;
  const int64_t slots = int64_t(k) * (dim + 1);
  CVAE_LAUNCH(lloyd_combine_kernel, grid_for(slots, kThreads), kThreads, 0, stream)(
      dim, k, chunks.count, scratch, sums, counts);
  CVAE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace cvae::kernels

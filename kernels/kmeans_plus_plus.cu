// k-means++ seeding on the device (CPU twin: engine/backend/cpu/kmeans_plus_plus.h, which states the rule):
//   centre 0 = p_f;  D_i = min over the centres so far of ‖p_i − c‖² (double);
//   centre c = the first p_s with Σ_{i ≤ s} D_i > u_c·Σ D.
// All K centres are drawn without a host round trip: per centre, two launches.
//   1. nearest: the points are cut into chunks of consecutive rows (as in lloyd.cu); block b
//      lowers D_i for its chunk with the newest centre and sums its chunk by a fixed shared-memory
//      tree into chunk_total[b] — deterministic, in double.
//   2. choose: one warp adds the chunk totals in order, finds the chunk where the running sum
//      passes the target, walks that chunk's rows in order and copies the chosen point into the
//      centres. (Sums grouped by chunk differ from the CPU's one running sum only in the last
//      bits of a double, so both pick the same point unless the target falls within ~1e-16 of a
//      boundary.) The running sums are a chain of dependent adds that no other order may replace:
//      a tree would round differently and could pick a different point at a near-tie. So the warp
//      does the loads, 32 consecutive values at a time into shared memory (the next group's load
//      already under way while the current one is added), and every lane replays the same adds in
//      order, so each holds the same bits and knows where the sum crosses without a vote. The
//      running sums through each chunk are kept, so finding the chunk is a parallel search. At
//      most 1024 chunk totals and one chunk's rows, about 2,000 dependent adds: microseconds per
//      centre.
#include "kernels/kernels.h"

namespace cvae::kernels {

namespace {

constexpr int kThreads = 256;

__global__ void kmeanspp_nearest_kernel(const float* points, int n, int dim, int ld,
                                        const float* centre, bool first_centre,
                                        int rows_per_chunk, double* nearest,
                                        double* chunk_total) {
  __shared__ double partial[kThreads];
  const int64_t first_row = int64_t(blockIdx.x) * rows_per_chunk;
  const int64_t end_row = first_row + rows_per_chunk < n ? first_row + rows_per_chunk : n;
  double sum = 0.0;
  for (int64_t i = first_row + threadIdx.x; i < end_row; i += blockDim.x) {
    const float* p = points + i * ld;
    double d = 0.0;
    for (int j = 0; j < dim; ++j) {
      const double diff = double(p[j]) - double(centre[j]);
      d += diff * diff;
    }
    if (!first_centre && nearest[i] < d) d = nearest[i];
    nearest[i] = d;
    sum += d;
  }
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (int(threadIdx.x) < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) chunk_total[blockIdx.x] = partial[0];
}

constexpr int kMaxChunks = 1024;  // row_chunks_for cuts no more
constexpr unsigned kFullWarp = 0xffffffffu;

// By the lanes of one warp, consecutive floats of the row to consecutive lanes.
__device__ void copy_point(const float* points, int64_t row, int dim, int ld, float* centre) {
  for (int j = int(threadIdx.x); j < dim; j += warpSize) centre[j] = points[row * ld + j];
}

// The row of chunk b where the running sum first passes the target: the sum through the chunks
// before b, plus the chunk's D_i one at a time in row order. The chunk passed the target as a
// whole; if its own adds fall short by rounding, its last row.
__device__ int64_t walk_chunk(const double* nearest, int n, int rows_per_chunk, int b,
                              double running, double target) {
  __shared__ double group[32];
  const int lane = int(threadIdx.x);
  const int64_t first_row = int64_t(b) * rows_per_chunk;
  const int64_t end_row = first_row + rows_per_chunk < n ? first_row + rows_per_chunk : n;
  double next = first_row + lane < end_row ? nearest[first_row + lane] : 0.0;
  for (int64_t start = first_row; start < end_row; start += 32) {
    group[lane] = next;
    __syncwarp();
    const int64_t ahead = start + 32 + lane;
    next = ahead < end_row ? nearest[ahead] : 0.0;  // loads while this group is added
    const int count = end_row - start < 32 ? int(end_row - start) : 32;
    int crossing = -1;
    for (int t = 0; t < count; ++t) {
      running += group[t];
      if (running > target) {
        crossing = t;
        break;
      }
    }
    __syncwarp();  // every lane has read the group before the next one overwrites it
    if (crossing >= 0) return start + crossing;
  }
  return end_row - 1;
}

// One warp. c == 0: centre 0 is the point `first`. Otherwise the draw described above.
__global__ void kmeanspp_choose_kernel(const float* points, int n, int dim, int ld,
                                       const double* nearest, const double* chunk_total,
                                       int chunks, int rows_per_chunk, RngPosition at, int c,
                                       int64_t first, float* centres) {
  __shared__ double totals[kMaxChunks];
  __shared__ double through[kMaxChunks];  // through[b] = the running sum after chunk b
  const int lane = int(threadIdx.x);
  float* centre = centres + int64_t(c) * dim;
  if (c == 0) {
    copy_point(points, first, dim, ld, centre);
    return;
  }
  for (int b = lane; b < chunks; b += 32) totals[b] = chunk_total[b];
  __syncwarp();
  double total = 0.0;
  for (int b = 0; b < chunks; ++b) {
    total += totals[b];
    if (b % 32 == lane) through[b] = total;
  }
  __syncwarp();
  int64_t chosen = n - 1;
  if (total > 0.0) {
    const double target = uniform_at(at, uint32_t(c), 0) * total;
    // The first chunk whose running sum passes the target: each lane finds its first among the
    // chunks b ≡ lane (mod 32), and the warp takes the least.
    int crossing = chunks;
    for (int b = lane; b < chunks; b += 32) {
      if (through[b] > target) {
        crossing = b;
        break;
      }
    }
    for (int offset = 16; offset > 0; offset /= 2) {
      const int other = __shfl_xor_sync(kFullWarp, crossing, offset);
      if (other < crossing) crossing = other;
    }
    if (crossing < chunks) {
      const double before = crossing > 0 ? through[crossing - 1] : 0.0;
      chosen = walk_chunk(nearest, n, rows_per_chunk, crossing, before, target);
    }
  } else {
    chosen = int64_t(uniform_at(at, uint32_t(c), 1) * n) % n;
  }
  copy_point(points, chosen, dim, ld, centre);
}

}  // namespace

int64_t kmeans_plus_plus_scratch_doubles(int n) {
  if (n <= 0) return 0;
  return int64_t(n) + row_chunks_for(n).count;
}

void kmeans_plus_plus(const float* points, int n, int dim, int ld, int k, uint64_t seed,
                      float* centroids, double* scratch, cudaStream_t stream) {
  if (n <= 0 || k <= 0) return;
  const RowChunks chunks = row_chunks_for(n);
  double* nearest = scratch;
  double* chunk_total = scratch + n;
  const RngPosition at{seed, RngStream::kmeans_init, 0};
  double first_draw = uniform_at(at, 0, 0) * n;  // the same pure function the kernel uses
  int64_t first = int64_t(first_draw) < n - 1 ? int64_t(first_draw) : n - 1;
  for (int c = 0; c < k; ++c) {
    if (c > 0) {
      CVAE_LAUNCH(kmeanspp_nearest_kernel, unsigned(chunks.count), kThreads, 0, stream)(
          points, n, dim, ld, centroids + int64_t(c - 1) * dim, c == 1, chunks.rows_per_chunk,
          nearest, chunk_total);
      CVAE_CUDA_CHECK(cudaGetLastError());
    }
    CVAE_LAUNCH(kmeanspp_choose_kernel, 1, 32, 0, stream)(
        points, n, dim, ld, nearest, chunk_total, chunks.count, chunks.rows_per_chunk, at, c,
        first, centroids);
    CVAE_CUDA_CHECK(cudaGetLastError());
  }
}

}  // namespace cvae::kernels

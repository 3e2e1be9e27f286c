// Bias + activation after a GEMM, and its backward (CPU twin: engine/backend/cpu/bias_act.h):
//   forward:   y[r, c] ← act(y[r, c] + bias[c])                  act = ReLU: max(v, 0) as v > 0 ? v : 0
//   backward:  dy[r, c] ← dy[r, c] · act'(y[r, c])               relu'(y) = [y > 0], y the output
//              dbias[c] = Σ_r dy[r, c]                            (after the mask)
// Forward: one thread per element (grid-stride). Backward: the rows are cut into chunks
// (bias_act_backward_chunks), so that tall, narrow layers fill the GPU too: a conv bias has one
// column per channel and a row per pixel of the batch, and a block per 32 columns alone would leave
// most SMs idle. Block (x, y) of the first pass takes 32 columns of chunk y; its 32 × 8 threads walk
// the chunk's rows (thread (x, y) takes rows y, y + 8, …), mask in place, keep a running sum per
// thread, and add the 8 partial sums of a column in order through shared memory into the chunk's
// partial sum partials[y, c]. A second pass, the same kernel with no mask and one chunk, adds each
// column's partials down the chunks the same way into dbias; with one chunk the first pass writes
// dbias itself. The partials live in scratch the caller allocates once: a training step is recorded
// as a CUDA Graph, where nothing may be allocated. No atomics: the order of the sum depends only on
// (rows, cols, scratch capacity), so it is the same on every run (it differs from the CPU's row
// order, so the tests compare it within a stated tolerance).
#include "kernels/kernels.h"

namespace cvae::kernels {

namespace {

constexpr int kColumnsPerBlock = 32;
constexpr int kRowLanes = 8;
// A chunk's 256 threads walk at least 16 rows each, enough to pay for the block.
constexpr int kMinRowsPerChunk = 128;
// The second pass adds a column's partials on 8 threads: at most 128 serial adds each.
constexpr int kMaxChunks = 1024;

__global__ void bias_act_forward_kernel(float* y, int ld, const float* bias, int rows, int cols,
                                        bool relu) {
  const int64_t total = int64_t(rows) * cols;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int r = int(e / cols), c = int(e - int64_t(r) * cols);
    float& out = y[int64_t(r) * ld + c];
    const float v = out + bias[c];
    out = relu ? (v > 0.0f ? v : 0.0f) : v;
  }
}

// Block (x, y): columns 32x … 32x + 31 of the rows of chunk y. sums == nullptr: mask only.
__global__ void bias_act_backward_kernel(float* dy, int ld_dy, const float* y, int ld_y,
                                         bool relu, int rows, int cols, int rows_per_chunk,
                                         float* sums) {
  __shared__ float partial[kRowLanes][kColumnsPerBlock + 1];
  const int c = blockIdx.x * kColumnsPerBlock + threadIdx.x;
  const int64_t first_row = int64_t(blockIdx.y) * rows_per_chunk;
  const int64_t end_row = first_row + rows_per_chunk < rows ? first_row + rows_per_chunk : rows;
  float sum = 0.0f;
  if (c < cols) {
    for (int64_t r = first_row + threadIdx.y; r < end_row; r += kRowLanes) {
      float& grad = dy[r * ld_dy + c];
      if (relu && !(y[r * ld_y + c] > 0.0f)) grad = 0.0f;
      sum += grad;
    }
  }
  if (sums == nullptr) return;  // uniform across the block: no thread is left at the barrier
  partial[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && c < cols) {
    float total = 0.0f;
    for (int lane = 0; lane < kRowLanes; ++lane) total += partial[lane][threadIdx.x];
    sums[int64_t(blockIdx.y) * cols + c] = total;
  }
}

}  // namespace

void bias_act_forward(float* y, int ld, const float* bias, int rows, int cols, Activation act,
                      cudaStream_t stream) {
  const int64_t total = int64_t(rows) * cols;
  if (total <= 0) return;
  constexpr int kThreads = 256;
  CVAE_LAUNCH(bias_act_forward_kernel, grid_for(total, kThreads), kThreads, 0, stream)(
      y, ld, bias, rows, cols, act == Activation::relu);
  CVAE_CUDA_CHECK(cudaGetLastError());
}

RowChunks bias_act_backward_chunks(int rows, int cols, int64_t scratch_floats) {
  // how many chunks' partials the scratch holds
  const int64_t fit = cols > 0 && scratch_floats > 0 ? scratch_floats / cols : 0;
  if (rows <= kMinRowsPerChunk || fit < 2) return RowChunks{rows > 0 ? rows : 1, 1};
  int64_t per_chunk = kMinRowsPerChunk;
  const int64_t for_max = (rows + kMaxChunks - 1) / kMaxChunks;
  const int64_t for_fit = (rows + fit - 1) / fit;
  if (per_chunk < for_max) per_chunk = for_max;
  if (per_chunk < for_fit) per_chunk = for_fit;
  return RowChunks{int(per_chunk), int((rows + per_chunk - 1) / per_chunk)};
}

void bias_act_backward(float* dy, int ld_dy, const float* y, int ld_y, float* dbias, int rows,
                       int cols, Activation act, float* scratch, int64_t scratch_floats,
                       cudaStream_t stream) {
  const bool relu = act == Activation::relu;
  if (cols <= 0 || (!relu && dbias == nullptr)) return;
  // rows == 0 still launches: dbias must become zeros, as on the CPU.
  const unsigned column_blocks = unsigned((cols + kColumnsPerBlock - 1) / kColumnsPerBlock);
  const dim3 threads(kColumnsPerBlock, kRowLanes);
  // Mask only: no partials to keep, so no capacity limits the chunks.
  const int64_t capacity = dbias == nullptr    ? int64_t(kMaxChunks) * cols
                           : scratch == nullptr ? 0
                                                : scratch_floats;
  const RowChunks chunks = bias_act_backward_chunks(rows, cols, capacity);
  float* sums = dbias == nullptr ? nullptr : chunks.count == 1 ? dbias : scratch;
  CVAE_LAUNCH(bias_act_backward_kernel, dim3(column_blocks, unsigned(chunks.count)), threads, 0,
              stream)(dy, ld_dy, y, ld_y, relu, rows, cols, chunks.rows_per_chunk, sums);
  CVAE_CUDA_CHECK(cudaGetLastError());
  if (dbias == nullptr || chunks.count == 1) return;
  // The partials [chunks, cols] summed down their rows: the same kernel, one chunk, no mask.
  CVAE_LAUNCH(bias_act_backward_kernel, dim3(column_blocks, 1), threads, 0, stream)(
      scratch, cols, nullptr, 0, false, chunks.count, cols, chunks.count, dbias);
  CVAE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace cvae::kernels

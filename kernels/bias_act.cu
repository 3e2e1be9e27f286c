// Bias + activation after a GEMM, and its backward (CPU twin: engine/cpu/bias_act.h):
//   forward:   y[r, c] ← act(y[r, c] + bias[c])                  act = ReLU: max(v, 0) as v > 0 ? v : 0
//   backward:  dy[r, c] ← dy[r, c] · act'(y[r, c])               relu'(y) = [y > 0], y the output
//              dbias[c] = Σ_r dy[r, c]                            (after the mask)
// Forward: one thread per element (grid-stride). Backward: one block per 32 columns; its 32 × 8
// threads walk the rows (thread (x, y) takes rows y, y + 8, …), mask in place, keep a running sum
// per thread, and the 8 partial sums of a column are added in order through shared memory. No
// atomics: the sum has the same order on every run (it differs from the CPU's row order, so the
// tests compare it within a stated tolerance).
#include "kernels/kernels.h"

namespace cvae::kernels {

namespace {

constexpr int kColumnsPerBlock = 32;
constexpr int kRowLanes = 8;

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

__global__ void bias_act_backward_kernel(float* dy, int ld_dy, const float* y, int ld_y,
                                         float* dbias, int rows, int cols, bool relu) {
  __shared__ float partial[kRowLanes][kColumnsPerBlock + 1];
  const int c = blockIdx.x * kColumnsPerBlock + threadIdx.x;
  float sum = 0.0f;
  if (c < cols) {
    for (int r = threadIdx.y; r < rows; r += kRowLanes) {
      float& grad = dy[int64_t(r) * ld_dy + c];
      if (relu && !(y[int64_t(r) * ld_y + c] > 0.0f)) grad = 0.0f;
      sum += grad;
    }
  }
  if (dbias == nullptr) return;  // uniform across the block: no thread is left at the barrier
  partial[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && c < cols) {
    float total = 0.0f;
    for (int lane = 0; lane < kRowLanes; ++lane) total += partial[lane][threadIdx.x];
    dbias[c] = total;
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

void bias_act_backward(float* dy, int ld_dy, const float* y, int ld_y, float* dbias, int rows,
                       int cols, Activation act, cudaStream_t stream) {
  const bool relu = act == Activation::relu;
  if (cols <= 0 || (!relu && dbias == nullptr)) return;
  // rows == 0 still launches: dbias must become zeros, as on the CPU.
  const unsigned blocks = unsigned((cols + kColumnsPerBlock - 1) / kColumnsPerBlock);
  CVAE_LAUNCH(bias_act_backward_kernel, blocks, dim3(kColumnsPerBlock, kRowLanes), 0, stream)(
      dy, ld_dy, y, ld_y, dbias, rows, cols, relu);
  CVAE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace cvae::kernels

// What every kernel file includes: the CUDA runtime (nvcc) or its CPU emulation (plain C++ with
// CLUSTERVAE_EMULATION, docs/DESIGN.md decision 5), the one launch macro both builds share and the one
// checking macro for CUDA runtime calls. Host-safe: engine/cuda includes it through kernels.h.
#pragma once
#include <cstdint>
#include <string>

#include "engine/error.h"

#ifdef CLUSTERVAE_EMULATION
#include "kernels/emulation/cuda_emulation.h"  // defines CVAE_LAUNCH as an emulated launch
#else
#include <cuda_runtime.h>
// CVAE_LAUNCH(kernel, grid, block, shared_bytes, stream)(arguments...): one spelling of a launch
// for both builds, so the launch code under test in CI is the launch code that runs on the GPU.
#define CVAE_LAUNCH(kernel, grid, block, shared_bytes, stream) \
  kernel<<<(grid), (block), (shared_bytes), (stream)>>>
#endif

namespace cvae {

// The one reporter of every checking macro — CUDA runtime calls here, cuBLAS and cuDNN calls in
// engine/backend/cuda/cuda_check.h: "<library> call <call> failed: <status> (<file>:<line>)".
[[noreturn]] inline void fail_library_call(const char* library, const char* call, const std::string& status,
                                           const char* file, int line) {
  fail(std::string(library) + " call " + call + " failed: " + status + " (" + file + ":" + std::to_string(line) +
       ")");
}

}  // namespace cvae

// Every CUDA runtime call goes through this: a failure throws cvae::Error naming the call and
// file:line. After a launch, CVAE_CUDA_CHECK(cudaGetLastError()) catches a refused configuration.
#define CVAE_CUDA_CHECK(call)                                                         \
  do {                                                                                \
    cudaError_t cvae_cuda_status_ = (call);                                           \
    if (cvae_cuda_status_ != cudaSuccess)                                             \
      ::cvae::fail_library_call("CUDA", #call, cudaGetErrorString(cvae_cuda_status_), __FILE__, __LINE__);           \
  } while (0)

namespace cvae::kernels {

// Blocks for a grid-stride loop over `work` items: enough to fill the device, never more than
// needed, at least one (callers return before launching when work == 0). The emulation may cap it
// lower (CLUSTERVAE_EMULATION_MAX_BLOCKS) so that the tests' small shapes take several turns of the
// loop, as large ones do on a GPU; only grid-stride launches size their grid here, so only they are capped.
inline unsigned grid_for(int64_t work, int threads_per_block, unsigned max_blocks = 8192) {
#ifdef CLUSTERVAE_EMULATION
  const unsigned cap = ::cvae_emulation::max_grid_stride_blocks();
  if (cap != 0 && cap < max_blocks) max_blocks = cap;
#endif
  int64_t blocks = (work + threads_per_block - 1) / threads_per_block;
  if (blocks < 1) blocks = 1;
  return blocks > max_blocks ? max_blocks : static_cast<unsigned>(blocks);
}

// Consecutive rows cut into chunks, one block each, for the deterministic two-pass sums of
// lloyd.cu and kmeans_plus_plus.cu: at most 1024 chunks of at least 256 rows — enough blocks to
// fill a GPU, and a bounded number of partial sums to add up in order.
struct RowChunks {
  int rows_per_chunk, count;
};

inline RowChunks row_chunks_for(int n) {
  int rows = (n + 1023) / 1024;
  if (rows < 256) rows = 256;
  return RowChunks{rows, n > 0 ? (n + rows - 1) / rows : 0};
}

}  // namespace cvae::kernels

// The CUDA emulation itself (kernels/emulation/cuda_emulation.h): the properties the kernel tests
// rely on. Barriers really wait, shared memory is shared by a block, warp shuffles move the right
// lanes' values, launches CUDA would refuse are reported through cudaGetLastError, and kernels
// that would hang or read garbage on a GPU (divergent barriers, shuffles with exited lanes) fail
// loudly instead of passing by luck.
#include "kernels/kernel_support.h"  // first: the emulation

#include <catch2/catch.hpp>

#include <stdexcept>
#include <vector>

namespace {

// Each thread writes its index to shared memory, waits, then reads its neighbour's: without a real
// barrier the last threads' slots would still be unwritten (-1) when the first threads read.
__global__ void neighbour_through_shared(int* out, int threads) {
  __shared__ int slots[256];
  const int t = threadIdx.x;
  slots[t] = -1;
  __syncthreads();
  slots[t] = t + 1000 * int(blockIdx.x);
  __syncthreads();
  out[blockIdx.x * threads + t] = slots[(t + 1) % threads];
}

__global__ void shuffles(int* down, int* xor_out, int* broadcast) {
  const int t = threadIdx.x;
  down[t] = __shfl_down_sync(0xffffffffu, t * 10, 3);
  xor_out[t] = __shfl_xor_sync(0xffffffffu, t * 10, 5);
  broadcast[t] = __shfl_sync(0xffffffffu, t * 10, 7);
}

__global__ void indices(int* out) {
  const int linear = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const int block = blockIdx.x + gridDim.x * blockIdx.y;
  out[block * blockDim.x * blockDim.y * blockDim.z + linear] = 1;
}

__global__ void shuffle_from_exited_lane(int* out) {
  if (threadIdx.x == 1) return;
  out[threadIdx.x] = __shfl_sync(0xffffffffu, 5, 1);
}

__global__ void divergent_barriers(int* out) {
  if (threadIdx.x < 16) out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1, 1);
  else __syncthreads();
}

__global__ void nothing(int*) {}

}  // namespace

TEST_CASE("emulated __syncthreads is a real barrier and __shared__ is shared by the block", "[emulated][emulation]") {
  for (int threads : {1, 33, 256}) {
    CAPTURE(threads);
    const int blocks = 3;
    std::vector<int> out(blocks * threads, -5);
    CVAE_LAUNCH(neighbour_through_shared, blocks, threads, 0, nullptr)(out.data(), threads);
    REQUIRE(cudaGetLastError() == cudaSuccess);
    for (int b = 0; b < blocks; ++b)
      for (int t = 0; t < threads; ++t) REQUIRE(out[b * threads + t] == (t + 1) % threads + 1000 * b);
  }
}

TEST_CASE("emulated warp shuffles return the source lane's value, or the caller's own past the warp",
          "[emulated][emulation]") {
  const int threads = 64;
  std::vector<int> down(threads), xor_out(threads), broadcast(threads);
  CVAE_LAUNCH(shuffles, 1, threads, 0, nullptr)(down.data(), xor_out.data(), broadcast.data());
  for (int t = 0; t < threads; ++t) {
    int lane = t % 32, warp_base = t - lane;
    REQUIRE(down[t] == (lane + 3 < 32 ? (t + 3) * 10 : t * 10));
    REQUIRE(xor_out[t] == (warp_base + (lane ^ 5)) * 10);
    REQUIRE(broadcast[t] == (warp_base + 7) * 10);
  }
}

TEST_CASE("emulated launches cover every thread of 2-D and 3-D grids and blocks once", "[emulated][emulation]") {
  const dim3 grid(3, 2), block(4, 3, 2);
  std::vector<int> out(3 * 2 * 4 * 3 * 2, 0);
  CVAE_LAUNCH(indices, grid, block, 0, nullptr)(out.data());
  for (int v : out) REQUIRE(v == 1);
}

TEST_CASE("emulated launches CUDA would refuse are reported by cudaGetLastError, and the check macro throws",
          "[emulated][emulation]") {
  CVAE_LAUNCH(nothing, 1, 2048, 0, nullptr)(nullptr);  // more than 1024 threads
  REQUIRE(cudaGetLastError() == cudaErrorInvalidConfiguration);
  REQUIRE(cudaGetLastError() == cudaSuccess);  // reading clears it, as in CUDA
  CVAE_LAUNCH(nothing, 0, 32, 0, nullptr)(nullptr);  // empty grid
  auto check = [] { CVAE_CUDA_CHECK(cudaGetLastError()); };
  REQUIRE_THROWS_WITH(check(), Catch::Contains("cudaGetLastError") && Catch::Contains("invalid configuration") &&
                                   Catch::Contains("test_cuda_emulation.cpp"));
}

TEST_CASE("emulated shuffles that read an exited lane and barriers that diverge fail loudly", "[emulated][emulation]") {
  std::vector<int> out(32);
  REQUIRE_THROWS_WITH(CVAE_LAUNCH(shuffle_from_exited_lane, 1, 32, 0, nullptr)(out.data()),
                      Catch::Contains("did not take part"));
  REQUIRE_THROWS_WITH(CVAE_LAUNCH(divergent_barriers, 1, 32, 0, nullptr)(out.data()),
                      Catch::Contains("deadlock"));
  // the emulator is usable again afterwards
  std::vector<int> again(64, -5);
  CVAE_LAUNCH(neighbour_through_shared, 1, 64, 0, nullptr)(again.data(), 64);
  REQUIRE(again[63] == 0);
}

// The CUDA emulation itself (kernels/emulation/cuda_emulation.h): the properties the kernel tests
// rely on. Barriers really wait, shared memory is shared by a block, warp shuffles move the right
// lanes' values, launches CUDA would refuse are reported through cudaGetLastError, and kernels
// that would hang or read garbage on a GPU (divergent barriers, shuffles whose mask does not match
// the lanes that call, reads of unwritten shared memory, misaligned float4 accesses, reliance on
// block or thread order) fail loudly instead of passing by luck — while correct code passes.
#include "kernels/kernel_support.h"  // first: the emulation

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "kernels/vector_access.cuh"

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
                      Catch::Contains("lane 1 of mask 0xffffffff (thread (1,0,0)) has exited"));
  REQUIRE_THROWS_WITH(CVAE_LAUNCH(divergent_barriers, 1, 32, 0, nullptr)(out.data()),
                      Catch::Contains("deadlock"));
  // the emulator is usable again afterwards
  std::vector<int> again(64, -5);
  CVAE_LAUNCH(neighbour_through_shared, 1, 64, 0, nullptr)(again.data(), 64);
  REQUIRE(again[63] == 0);
}

namespace {

// Thread 0 of each block records when its block ran.
__global__ void record_block_order(unsigned* order, unsigned* next) {
  if (threadIdx.x == 0) order[atomicAdd(next, 1u)] = blockIdx.x;
}

// Every thread records when it ran, before and after a barrier.
__global__ void record_thread_order(unsigned* before, unsigned* after, unsigned* next) {
  before[atomicAdd(&next[0], 1u)] = threadIdx.x;
  __syncthreads();
  after[atomicAdd(&next[1], 1u)] = threadIdx.x;
}

std::vector<unsigned> block_order(unsigned blocks) {
  std::vector<unsigned> order(blocks, ~0u), next(1, 0);
  CVAE_LAUNCH(record_block_order, blocks, 32, 0, nullptr)(order.data(), next.data());
  return order;
}

bool is_permutation_of_iota(std::vector<unsigned> v) {
  std::sort(v.begin(), v.end());
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] != i) return false;
  return true;
}

bool is_iota(const std::vector<unsigned>& v) {
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] != i) return false;
  return true;
}

// Reads its shared memory before writing it: what a GPU leaves there is undefined. Block 0 and
// later blocks alike must see the poison, not zeros nor the previous block's values.
__global__ void read_before_write(float* floats, int* ints, double* doubles) {
  __shared__ float f[64];
  __shared__ int n[64];
  __shared__ double d[64];
  const int t = threadIdx.x, slot = blockIdx.x * 64 + t;
  floats[slot] = f[t];
  ints[slot] = n[t];
  doubles[slot] = d[t];
  __syncthreads();
  f[t] = 1.0f;
  n[t] = 1;
  d[t] = 1.0;
}

// The planted race: every thread writes its slot, then reads its neighbour's without a barrier.
__global__ void neighbour_without_barrier(int* out) {
  __shared__ int slots[64];
  const int t = threadIdx.x;
  slots[t] = t;
  __syncwarp();  // orders the warp only; the neighbour across the warp boundary is not ordered
  out[t] = slots[(t + 32) % 64];
}

__global__ void shuffle_lane_outside_its_mask(int* out) {
  out[threadIdx.x] = __shfl_sync(0x0000ffffu, int(threadIdx.x), 0);  // lanes 16..31 are not named
}

__global__ void shuffle_mask_names_a_diverged_lane(int* out) {
  if (threadIdx.x < 16) out[threadIdx.x] = __shfl_sync(0xffffffffu, int(threadIdx.x), 0);
  else __syncwarp(0xffffffffu);  // the same lanes, but another call
}

__global__ void shuffle_reads_outside_the_mask(int* out) {
  if (threadIdx.x < 16) out[threadIdx.x] = __shfl_xor_sync(0x0000ffffu, int(threadIdx.x), 16);
}

// Correct code with partial masks: two half-warps shuffle separately, then the whole warp.
__global__ void half_warp_shuffles(int* half, int* whole) {
  const int t = threadIdx.x;
  const unsigned mine = t < 16 ? 0x0000ffffu : 0xffff0000u;
  half[t] = __shfl_sync(mine, t * 10, 3, 16);
  whole[t] = __shfl_xor_sync(0xffffffffu, t * 10, 16);
}

// A full mask over a partial warp names lanes that are no threads.
__global__ void full_mask_in_partial_warp(int* out) {
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, int(threadIdx.x), 1);
}

__global__ void exit_before_barrier(int* out) {
  if (threadIdx.x == 5) return;
  __syncthreads();
  out[threadIdx.x] = 1;
}

__global__ void two_different_barriers(int* out) {
  if (threadIdx.x < 32) {
    out[threadIdx.x] = 1;
    __syncthreads();
  } else {
    out[threadIdx.x] = 2;
    __syncthreads();
  }
}

// Correct: a barrier in a loop every thread runs equally often, and exits after the last barrier.
__global__ void barriers_in_a_loop_then_exit(int* out) {
  __shared__ int total[1];
  if (threadIdx.x == 0) total[0] = 0;
  for (int round = 0; round < 3; ++round) {
    __syncthreads();
    atomicAdd(&total[0], 1);
  }
  __syncthreads();
  if (threadIdx.x % 2 == 1) return;
  out[threadIdx.x] = total[0];
}

__global__ void copy_float4(const float* in, float* out) {
  using cvae::kernels::float4_at;
  float4_at(out, threadIdx.x) = float4_at(in, threadIdx.x);
}

}  // namespace

TEST_CASE("emulated blocks run in a seeded pseudo-random order: a permutation, reproducible, not 0, 1, 2",
          "[emulated][emulation]") {
  cvae_emulation::set_seed(7);
  const std::vector<unsigned> first = block_order(64);
  cvae_emulation::set_seed(7);
  const std::vector<unsigned> again = block_order(64);
  cvae_emulation::set_seed(8);
  const std::vector<unsigned> other = block_order(64);
  REQUIRE(is_permutation_of_iota(first));
  REQUIRE(!is_iota(first));
  REQUIRE(first == again);
  REQUIRE(first != other);
  // 2-D grids are shuffled as a whole, each block once
  std::vector<int> out(4 * 3 * 32, 0);
  CVAE_LAUNCH(indices, dim3(4, 3), 32, 0, nullptr)(out.data());
  for (int v : out) REQUIRE(v == 1);
}

TEST_CASE("emulated threads of a block run in a different order at the start and after each barrier",
          "[emulated][emulation]") {
  const unsigned threads = 64;
  std::vector<unsigned> before(threads), after(threads), next(2, 0);
  CVAE_LAUNCH(record_thread_order, 1, threads, 0, nullptr)(before.data(), after.data(), next.data());
  REQUIRE(is_permutation_of_iota(before));
  REQUIRE(is_permutation_of_iota(after));
  REQUIRE(!is_iota(before));
  REQUIRE(before != after);
}

TEST_CASE("emulated shared memory is poisoned before every block: unwritten floats and doubles are NaN, ints -1",
          "[emulated][emulation]") {
  const int blocks = 3;
  std::vector<float> floats(blocks * 64, 0.0f);
  std::vector<int> ints(blocks * 64, 0);
  std::vector<double> doubles(blocks * 64, 0.0);
  CVAE_LAUNCH(read_before_write, blocks, 64, 0, nullptr)(floats.data(), ints.data(), doubles.data());
  for (int i = 0; i < blocks * 64; ++i) {
    REQUIRE(std::isnan(floats[i]));
    REQUIRE(ints[i] == -1);
    REQUIRE(std::isnan(doubles[i]));
  }
}

TEST_CASE("emulated reads of shared memory that no barrier orders see another thread's slot unwritten",
          "[emulated][emulation]") {
  // Under the shuffled resume order some thread reads its neighbour's slot before it is written.
  std::vector<int> out(64, 0);
  CVAE_LAUNCH(neighbour_without_barrier, 1, 64, 0, nullptr)(out.data());
  REQUIRE(std::count(out.begin(), out.end(), -1) > 0);
}

TEST_CASE("emulated shuffles refuse masks that do not match the lanes that call, and let matching ones through",
          "[emulated][emulation]") {
  std::vector<int> out(64, 0), half(32), whole(32);
  REQUIRE_THROWS_WITH(CVAE_LAUNCH(shuffle_lane_outside_its_mask, 1, 32, 0, nullptr)(out.data()),
                      Catch::Contains("kernel shuffle_lane_outside_its_mask, block (0,0,0), thread (") &&
                          Catch::Contains("mask 0x0000ffff, which does not name the calling lane"));
  REQUIRE_THROWS_WITH(
      CVAE_LAUNCH(shuffle_mask_names_a_diverged_lane, 1, 32, 0, nullptr)(out.data()),
      Catch::Contains("kernel shuffle_mask_names_a_diverged_lane") && Catch::Contains("waits at __shfl_sync") &&
          Catch::Contains("lane 16 of mask 0xffffffff (thread (16,0,0)) waits at __syncwarp"));
  REQUIRE_THROWS_WITH(CVAE_LAUNCH(shuffle_reads_outside_the_mask, 1, 32, 0, nullptr)(out.data()),
                      Catch::Contains("which is not in the mask 0x0000ffff"));
  REQUIRE_THROWS_WITH(CVAE_LAUNCH(full_mask_in_partial_warp, 1, 48, 0, nullptr)(out.data()),
                      Catch::Contains("lane 16 of mask 0xffffffff is no thread of the block"));

  CVAE_LAUNCH(half_warp_shuffles, 1, 32, 0, nullptr)(half.data(), whole.data());
  for (int t = 0; t < 32; ++t) {
    REQUIRE(half[t] == (t < 16 ? 3 : 19) * 10);
    REQUIRE(whole[t] == (t ^ 16) * 10);
  }
}

TEST_CASE("emulated __syncthreads refuses a thread that exits or waits at another barrier, and passes loops",
          "[emulated][emulation]") {
  std::vector<int> out(64, 0);
  REQUIRE_THROWS_WITH(CVAE_LAUNCH(exit_before_barrier, 2, 64, 0, nullptr)(out.data()),
                      Catch::Contains("kernel exit_before_barrier, block (") &&
                          Catch::Contains("waits at __syncthreads at") &&
                          Catch::Contains("thread (5,0,0) has exited"));
  REQUIRE_THROWS_WITH(CVAE_LAUNCH(two_different_barriers, 1, 64, 0, nullptr)(out.data()),
                      Catch::Contains("threads of a block must reach the same __syncthreads"));

  std::fill(out.begin(), out.end(), -5);
  CVAE_LAUNCH(barriers_in_a_loop_then_exit, 1, 64, 0, nullptr)(out.data());
  for (int t = 0; t < 64; ++t) REQUIRE(out[t] == (t % 2 == 1 ? -5 : 3 * 64));
}

TEST_CASE("emulated float4 accesses through float4_at must be 16-byte aligned", "[emulated][emulation]") {
  alignas(16) float in[4 * 32 + 4], out[4 * 32 + 4];
  std::iota(in, in + 4 * 32 + 4, 0.0f);
  CVAE_LAUNCH(copy_float4, 1, 32, 0, nullptr)(in, out);
  for (int i = 0; i < 4 * 32; ++i) REQUIRE(out[i] == in[i]);
  REQUIRE_THROWS_WITH(CVAE_LAUNCH(copy_float4, 1, 32, 0, nullptr)(in + 1, out),
                      Catch::Contains("kernel copy_float4, block (0,0,0), thread (") &&
                          Catch::Contains("float4 access at") && Catch::Contains("which is not 16-byte aligned"));
}

TEST_CASE("emulated grid-stride grids obey the block cap, and a bad setting is refused", "[emulated][emulation]") {
  const unsigned before = cvae_emulation::max_grid_stride_blocks();
  cvae_emulation::set_max_grid_stride_blocks(2);
  REQUIRE(cvae::kernels::grid_for(100000, 256) == 2);
  REQUIRE(cvae::kernels::grid_for(10, 256) == 1);
  cvae_emulation::set_max_grid_stride_blocks(0);
  REQUIRE(cvae::kernels::grid_for(100000, 256) == 391);
  REQUIRE(cvae::kernels::grid_for(100000, 256, 100) == 100);
  cvae_emulation::set_max_grid_stride_blocks(before);

  ::setenv("CLUSTERVAE_EMULATION_TEST_SETTING", "two", 1);
  REQUIRE_THROWS_WITH(cvae_emulation::unsigned_from_environment("CLUSTERVAE_EMULATION_TEST_SETTING", 0),
                      Catch::Contains("CLUSTERVAE_EMULATION_TEST_SETTING='two' is not an unsigned integer"));
  ::setenv("CLUSTERVAE_EMULATION_TEST_SETTING", "3", 1);
  REQUIRE(cvae_emulation::unsigned_from_environment("CLUSTERVAE_EMULATION_TEST_SETTING", 0) == 3);
  ::unsetenv("CLUSTERVAE_EMULATION_TEST_SETTING");
  REQUIRE(cvae_emulation::unsigned_from_environment("CLUSTERVAE_EMULATION_TEST_SETTING", 9) == 9);
}

TEST_CASE("emulated launches of more than 256 threads per block are refused: the kernels' register check assumes 256",
          "[emulated][emulation]") {
  REQUIRE_THROWS_WITH(CVAE_LAUNCH(nothing, 1, 512, 0, nullptr)(nullptr), Catch::Contains("a block of 512 threads"));
  REQUIRE_THROWS_WITH(CVAE_LAUNCH(nothing, 1, dim3(16, 32), 0, nullptr)(nullptr), Catch::Contains("at most 256"));
  CVAE_LAUNCH(nothing, 1, 256, 0, nullptr)(nullptr);
  REQUIRE(cudaGetLastError() == cudaSuccess);
}

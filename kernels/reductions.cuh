// Deterministic sums across a warp and across a block, shared by the kernels that reduce
// (bce.cu, reduce.cu, reparam_kl.cu). Device code: included by .cu files only.
#pragma once
#include "kernels/kernel_support.h"

namespace cvae::kernels {

constexpr unsigned kFullWarp = 0xffffffffu;

// Sum over the 32 lanes of a warp by butterfly exchanges: every lane ends with the total, and the
// order of additions is fixed, so the result is the same on every run.
template <class T>
__device__ __forceinline__ T warp_sum(T value) {
  for (int offset = 16; offset > 0; offset /= 2) value += __shfl_xor_sync(kFullWarp, value, offset);
  return value;
}

// The warps' totals of block_sum: room for 32 of any type up to a double. Declared in a function
// that is not a template because GCC drops the section attribute from statics of templates, and the
// emulation finds every __shared__ variable through that section to poison it before each block
// (kernels/emulation/cuda_emulation.h); on the GPU it is the same one shared array per block.
__device__ __forceinline__ void* block_sum_scratch() {
  __shared__ double scratch[32];
  return scratch;
}

// Sum over a block of kThreads threads (a multiple of 32); the total is valid in thread 0.
// Every thread of the block must call it. Deterministic: fixed tree, fixed order.
template <int kThreads, class T>
__device__ __forceinline__ T block_sum(T value) {
  static_assert(kThreads % 32 == 0 && kThreads <= 1024, "block_sum needs whole warps");
  static_assert(sizeof(T) <= sizeof(double) && alignof(T) <= alignof(double), "block_sum_scratch holds doubles");
  T* warp_totals = static_cast<T*>(block_sum_scratch());
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  value = warp_sum(value);
  __syncthreads();  // a previous block_sum's readers are done with warp_totals
  if (lane == 0) warp_totals[warp] = value;
  __syncthreads();
  T total = T(0);
  if (warp == 0) {
    total = lane < kThreads / 32 ? warp_totals[lane] : T(0);
    total = warp_sum(total);
  }
  return total;
}

}  // namespace cvae::kernels

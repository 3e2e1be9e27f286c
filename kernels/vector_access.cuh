// Vector loads and stores through a scalar buffer (adam.cu's float4 path). On the GPU a float4
// access must be 16-byte aligned or it faults; the launchers choose the vector path only for
// aligned buffers. In the emulation each access checks its alignment, so a launcher that picks the
// vector path for a misaligned buffer fails in CI, naming the kernel, block and thread. The nvcc
// build compiles to the plain reinterpret_cast, unchanged. Device code: included by .cu files only.
#pragma once
#include "kernels/kernel_support.h"

namespace cvae::kernels {

// The q-th float4 of `data`, i.e. data[4q .. 4q+3].
__device__ __forceinline__ float4& float4_at(float* data, int64_t q) {
#ifdef CLUSTERVAE_EMULATION
  ::cvae_emulation::check_alignment(data + 4 * q, alignof(float4), "float4");
#endif
  return reinterpret_cast<float4*>(data)[q];
}

__device__ __forceinline__ const float4& float4_at(const float* data, int64_t q) {
#ifdef CLUSTERVAE_EMULATION
  ::cvae_emulation::check_alignment(data + 4 * q, alignof(float4), "float4");
#endif
  return reinterpret_cast<const float4*>(data)[q];
}

}  // namespace cvae::kernels

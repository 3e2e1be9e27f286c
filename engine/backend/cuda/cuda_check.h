// The checking macros of engine/cuda: CUDA runtime calls through CVAE_CUDA_CHECK (from
// kernels/kernel_support.h, shared with the launchers) and cuBLAS calls through CVAE_CUBLAS_CHECK.
// A failure throws cvae::Error naming the call and file:line (docs/DESIGN.md decision 8).
#pragma once
#include <cublas_v2.h>

#include <string>

#include "engine/error.h"
#include "kernels/kernel_support.h"

namespace cvae {

[[noreturn]] inline void fail_cublas_call(const char* call, cublasStatus_t status, const char* file,
                                          int line) {
  fail(std::string("cuBLAS call ") + call + " failed: " + cublasGetStatusName(status) + " (" +
       cublasGetStatusString(status) + ") (" + file + ":" + std::to_string(line) + ")");
}

}  // namespace cvae

#define CVAE_CUBLAS_CHECK(call)                                                       \
  do {                                                                                \
    cublasStatus_t cvae_cublas_status_ = (call);                                      \
    if (cvae_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                 \
      ::cvae::fail_cublas_call(#call, cvae_cublas_status_, __FILE__, __LINE__);       \
  } while (0)

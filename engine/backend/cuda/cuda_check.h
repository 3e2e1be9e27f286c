// The checking macros of engine/backend/cuda: CUDA runtime calls through CVAE_CUDA_CHECK (from
// kernels/kernel_support.h, shared with the launchers), cuBLAS calls through CVAE_CUBLAS_CHECK and
// cuDNN calls through CVAE_CUDNN_CHECK. A failure throws cvae::Error naming the library, the call,
// its status and file:line, through the one reporter of kernel_support.h (docs/DESIGN.md decision 8).
#pragma once
#include <cublas_v2.h>
#include <cudnn.h>

#include <string>

#include "engine/error.h"
#include "kernels/kernel_support.h"

namespace cvae {

inline std::string cublas_status_text(cublasStatus_t status) {
  return std::string(cublasGetStatusName(status)) + " (" + cublasGetStatusString(status) + ")";
}

}  // namespace cvae

#define CVAE_CUBLAS_CHECK(call)                                                                            \
  do {                                                                                                     \
    cublasStatus_t cvae_cublas_status_ = (call);                                                           \
    if (cvae_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                                      \
      ::cvae::fail_library_call("cuBLAS", #call, ::cvae::cublas_status_text(cvae_cublas_status_), __FILE__, \
                                __LINE__);                                                                 \
  } while (0)

#define CVAE_CUDNN_CHECK(call)                                                                              \
  do {                                                                                                      \
    cudnnStatus_t cvae_cudnn_status_ = (call);                                                              \
    if (cvae_cudnn_status_ != CUDNN_STATUS_SUCCESS)                                                         \
      ::cvae::fail_library_call("cuDNN", #call, cudnnGetErrorString(cvae_cudnn_status_), __FILE__, __LINE__); \
  } while (0)

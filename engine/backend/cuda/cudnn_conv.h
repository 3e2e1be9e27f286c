// cuDNN convolutions for the CUDA backend: one cuDNN handle on the backend's stream and one plan
// (descriptors + chosen algorithms) per convolution geometry, made at set-up by prepare(), never
// inside a training step, so the step stays capturable as one CUDA Graph.
//
// Legacy convolution API (cudnnConvolutionForward / BackwardData / BackwardFilter), not the graph
// API: the three ops this engine needs are exactly its three calls, algorithm choice is one
// heuristic query per op, and the code can be checked by reading it on machines without a GPU
// (the graph API's descriptor attributes only fail at run time). It is marked deprecated in
// cuDNN 9 but present and supported in every 9.x; the graph API is the route when it goes.
#pragma once
#include <cuda_runtime.h>
#include <cudnn.h>

#include <map>
#include <memory>
#include <string>

#include "engine/backend/backend.h"

namespace cvae {

class CudnnConvolutions {
 public:
  explicit CudnnConvolutions(cudaStream_t stream);
  ~CudnnConvolutions();
  CudnnConvolutions(const CudnnConvolutions&) = delete;
  CudnnConvolutions& operator=(const CudnnConvolutions&) = delete;

  // Chooses deterministic FP32 (no TF32) algorithms for g — each tried once on zeros, those cuDNN
  // refuses to run dropped — logs the choice on stderr and returns the scratch bytes the three
  // ops need at this batch size. Smaller batches of the same geometry reuse these algorithms where
  // cuDNN takes them within that scratch.
  size_t prepare(const ConvGeometry& g);
  void forward(const ConvGeometry& g, const float* x, const float* w, float* y, void* scratch,
               size_t scratch_bytes);
  void backward_data(const ConvGeometry& g, const float* dy, const float* w, float* dx,
                     void* scratch, size_t scratch_bytes);
  void backward_weights(const ConvGeometry& g, const float* x, const float* dy, float* dw,
                        void* scratch, size_t scratch_bytes);

  // "cuDNN 9.x.y" of the library loaded at run time.
  static std::string version();

 private:
  struct Plan;
  const Plan& plan_for(const ConvGeometry& g, const char* op);
  cudnnHandle_t handle_ = nullptr;
  cudaStream_t stream_;
  std::map<decltype(ConvGeometry().key()), std::unique_ptr<Plan>> plans_;
};

}  // namespace cvae

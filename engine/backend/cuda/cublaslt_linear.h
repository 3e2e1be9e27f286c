// A linear layer's forward as one cuBLASLt matmul with its bias (and ReLU) fused in as the
// epilogue: y = act(x·Wᵀ + bias) in one kernel instead of a GEMM and a bias_act pass over y
// (CUBLASLT_EPILOGUE_RELU_BIAS, CUBLASLT_EPILOGUE_BIAS). One plan (descriptors, layouts and the
// heuristic's algorithm) per shape and pointer alignment, made on first use and kept — the trainer
// runs one step eagerly before it records one, so no plan is made inside a stream capture; a shape
// cuBLASLt has no algorithm for returns false and the caller issues the GEMM and the bias_act
// kernel instead.
//
// Where the epilogues do not fit, the small kernel stays (kernels/bias_act.cu): after cuDNN's
// convolutions, and the backward pass. The backward's DRELU_BGRAD epilogue would fuse the ReLU
// mask and the bias gradient into the next layer's input-gradient GEMM, but needs the forward to
// write a ReLU bit-mask (RELU_AUX_BIAS) and the layers to run their backward in another order; it is
// left until a GPU session can measure what it saves against the one bias_act_backward pass.
#pragma once
#include <cublasLt.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <memory>
#include <tuple>

#include "engine/backend/backend.h"

namespace cvae {

class CublasLtLinear {
 public:
  // The workspace is the backend's cuBLAS workspace: both libraries run on the one stream, so
  // their uses of it are ordered.
  CublasLtLinear(cudaStream_t stream, void* workspace, size_t workspace_bytes);
  ~CublasLtLinear();
  CublasLtLinear(const CublasLtLinear&) = delete;
  CublasLtLinear& operator=(const CublasLtLinear&) = delete;

  // y[r, 0:out] = act(Σ_i x[r, i]·w[o, i] + bias[o]) for r < rows (row-major, w is [out, in] dense).
  // False (nothing issued) when cuBLASLt offers no algorithm for this shape and these pointers'
  // alignments, or when the bias is not 16-byte aligned: the epilogue's bias pointer is outside
  // the alignment preferences a plan is chosen with, and a kernel may read it 16 bytes at a time.
  // The bias alignment forward() requires (bytes).
  static constexpr uintptr_t kBiasAlignment = 16;
  bool forward(int rows, int out, int in, const float* x, int ld_x, const float* w,
               const float* bias, float* y, int ld_y, Activation act);

 private:
  struct Plan;
  // A plan per shape and per alignment of w, x and y (each up to 256 bytes): the heuristic is told
  // the real alignments, so aligned pointers get the vectorised kernels, and an algorithm chosen
  // for aligned pointers is never used on less aligned ones.
  using PlanKey = std::tuple<int, int, int, int, int, int, unsigned, unsigned, unsigned>;
  Plan* plan_for(const PlanKey& key);
  cublasLtHandle_t handle_ = nullptr;
  cudaStream_t stream_;
  void* workspace_;
  size_t workspace_bytes_;
  std::map<PlanKey, std::unique_ptr<Plan>> plans_;
};

}  // namespace cvae

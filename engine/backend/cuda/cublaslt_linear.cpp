// cuBLASLt linear forward with a bias (+ ReLU) epilogue; see cublaslt_linear.h.
//
// Row-major to cuBLASLt's column-major, as in CudaBackend::gemm: the row-major y [rows, out] is the
// column-major D [out, rows] (ld_y), x [rows, in] is the column-major X [in, rows] (ld_x) and w
// [out, in] is the column-major W [in, out] (ld in). Then D = op(W)·X with op = transpose:
// m = out, n = rows, k = in, and the epilogue's bias vector runs along m, one value per output —
// the layer's bias. FP32 in, FP32 compute (no TF32), as every other GEMM of the engine.
#include "engine/backend/cuda/cublaslt_linear.h"

#include <utility>

#include "engine/backend/cuda/cuda_check.h"
#include "engine/error.h"

namespace cvae {

struct CublasLtLinear::Plan {
  cublasLtMatmulDesc_t operation = nullptr;
  cublasLtMatrixLayout_t w = nullptr, x = nullptr, y = nullptr;
  cublasLtMatmulAlgo_t algorithm{};
  bool usable = false;

  ~Plan() {
    // Destroying descriptors only frees host memory; failures are not worth a throw here.
    if (y) cublasLtMatrixLayoutDestroy(y);
    if (x) cublasLtMatrixLayoutDestroy(x);
    if (w) cublasLtMatrixLayoutDestroy(w);
    if (operation) cublasLtMatmulDescDestroy(operation);
  }
};

CublasLtLinear::CublasLtLinear(cudaStream_t stream, void* workspace, size_t workspace_bytes)
    : stream_(stream), workspace_(workspace), workspace_bytes_(workspace_bytes) {
  CVAE_CUBLAS_CHECK(cublasLtCreate(&handle_));
}

CublasLtLinear::~CublasLtLinear() {
  plans_.clear();
  if (handle_) cublasLtDestroy(handle_);
}

namespace {

// The alignment every row of a float matrix has: the largest power of two up to 256 that divides
// both its start address and its row pitch in bytes. What the heuristic may assume of it.
unsigned alignment_of(const float* matrix, int ld) {
  const uintptr_t address = reinterpret_cast<uintptr_t>(matrix);
  const uintptr_t pitch = static_cast<uintptr_t>(ld) * sizeof(float);
  unsigned alignment = 256;
  while (alignment > 1 && (address % alignment != 0 || pitch % alignment != 0)) alignment /= 2;
  return alignment;
}

}  // namespace

CublasLtLinear::Plan* CublasLtLinear::plan_for(const PlanKey& key) {
  const auto [rows, out, in, ld_x, ld_y, act_value, align_w, align_x, align_y] = key;
  const Activation act = static_cast<Activation>(act_value);
  auto found = plans_.find(key);
  if (found != plans_.end()) return found->second.get();

  auto plan = std::make_unique<Plan>();
  CVAE_CUBLAS_CHECK(cublasLtMatmulDescCreate(&plan->operation, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t transpose = CUBLAS_OP_T, keep = CUBLAS_OP_N;
  CVAE_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan->operation, CUBLASLT_MATMUL_DESC_TRANSA,
                                                   &transpose, sizeof transpose));
  CVAE_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan->operation, CUBLASLT_MATMUL_DESC_TRANSB,
                                                   &keep, sizeof keep));
  const cublasLtEpilogue_t epilogue =
      act == Activation::relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS;
  CVAE_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan->operation, CUBLASLT_MATMUL_DESC_EPILOGUE,
                                                   &epilogue, sizeof epilogue));
  CVAE_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan->w, CUDA_R_32F, in, out, in));
  CVAE_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan->x, CUDA_R_32F, in, rows, ld_x));
  CVAE_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan->y, CUDA_R_32F, out, rows, ld_y));

  // The pointers' real alignments (A = w, B = x, C = D = y), and no more workspace than the
  // backend has. The model's tensors start at 256-byte boundaries (engine/nn/model.cpp), so in
  // training these are 256 (less where a row pitch is less); a view into the middle of a buffer gets what it really has.
  cublasLtMatmulPreference_t preference = nullptr;
  CVAE_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&preference));
  const uint64_t workspace_bytes = workspace_bytes_;
  cublasStatus_t status = cublasLtMatmulPreferenceSetAttribute(
      preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace_bytes, sizeof workspace_bytes);
  const std::pair<cublasLtMatmulPreferenceAttributes_t, uint32_t> alignments[] = {
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, align_w},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, align_x},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, align_y},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, align_y}};
  for (const auto& [attribute, alignment] : alignments)
    if (status == CUBLAS_STATUS_SUCCESS)
      status = cublasLtMatmulPreferenceSetAttribute(preference, attribute, &alignment, sizeof alignment);
  cublasLtMatmulHeuristicResult_t result{};
  int found_count = 0;
  if (status == CUBLAS_STATUS_SUCCESS)
    status = cublasLtMatmulAlgoGetHeuristic(handle_, plan->operation, plan->w, plan->x, plan->y,
                                            plan->y, preference, 1, &result, &found_count);
  cublasLtMatmulPreferenceDestroy(preference);
  // "No algorithm" (NOT_SUPPORTED, or zero results) is an answer, not an error: the caller falls back.
  if (status != CUBLAS_STATUS_SUCCESS && status != CUBLAS_STATUS_NOT_SUPPORTED)
    CVAE_CUBLAS_CHECK(status);
  plan->usable = status == CUBLAS_STATUS_SUCCESS && found_count > 0 &&
                 result.state == CUBLAS_STATUS_SUCCESS;
  if (plan->usable) plan->algorithm = result.algo;
  Plan* made = plan.get();
  plans_.emplace(key, std::move(plan));
  return made;
}

bool CublasLtLinear::forward(int rows, int out, int in, const float* x, int ld_x, const float* w,
                             const float* bias, float* y, int ld_y, Activation act) {
  if (rows <= 0 || out <= 0 || in <= 0) return false;
  if (reinterpret_cast<uintptr_t>(bias) % kBiasAlignment != 0) return false;
  Plan* plan = plan_for(PlanKey(rows, out, in, ld_x, ld_y, static_cast<int>(act), alignment_of(w, in),
                                alignment_of(x, ld_x), alignment_of(y, ld_y)));
  if (!plan->usable) return false;
  // The bias pointer is the one attribute that changes between calls of one shape.
  CVAE_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan->operation, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                   &bias, sizeof bias));
  const float one = 1.0f, zero = 0.0f;
  CVAE_CUBLAS_CHECK(cublasLtMatmul(handle_, plan->operation, &one, w, plan->w, x, plan->x, &zero, y,
                                   plan->y, y, plan->y, &plan->algorithm, workspace_,
                                   workspace_bytes_, stream_));
  return true;
}

}  // namespace cvae

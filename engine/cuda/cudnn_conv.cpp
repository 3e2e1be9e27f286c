#include "engine/cuda/cudnn_conv.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "engine/error.h"

namespace cvae {

namespace {

[[noreturn]] void fail_cudnn_call(const char* call, cudnnStatus_t status, const char* file,
                                  int line) {
  fail(std::string("cuDNN call ") + call + " failed: " + cudnnGetErrorString(status) + " (" +
       file + ":" + std::to_string(line) + ")");
}

}  // namespace

}  // namespace cvae

#define CVAE_CUDNN_CHECK(call)                                                  \
  do {                                                                          \
    cudnnStatus_t cvae_cudnn_status_ = (call);                                  \
    if (cvae_cudnn_status_ != CUDNN_STATUS_SUCCESS)                             \
      ::cvae::fail_cudnn_call(#call, cvae_cudnn_status_, __FILE__, __LINE__);   \
  } while (0)

namespace cvae {

// Descriptors of one geometry (one batch size) and the algorithms chosen for it.
struct CudnnConvolutions::Plan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnConvolutionFwdAlgo_t forward_algo{};
  cudnnConvolutionBwdDataAlgo_t data_algo{};
  cudnnConvolutionBwdFilterAlgo_t filter_algo{};
  size_t forward_bytes = 0, data_bytes = 0, filter_bytes = 0;

  explicit Plan(const ConvGeometry& g) {
    try {
      CVAE_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x));
      CVAE_CUDNN_CHECK(cudnnCreateTensorDescriptor(&y));
      CVAE_CUDNN_CHECK(cudnnCreateFilterDescriptor(&w));
      CVAE_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv));
      // Channels-last everywhere, the filter too (KRSC), as engine/backend.h defines them.
      CVAE_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, g.batch,
                                                  g.in_channels, g.height, g.width));
      CVAE_CUDNN_CHECK(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, g.batch,
                                                  g.out_channels, g.out_height(), g.out_width()));
      CVAE_CUDNN_CHECK(cudnnSetFilter4dDescriptor(w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC,
                                                  g.out_channels, g.in_channels, g.kernel,
                                                  g.kernel));
      CVAE_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv, g.padding, g.padding, g.stride,
                                                       g.stride, 1, 1, CUDNN_CROSS_CORRELATION,
                                                       CUDNN_DATA_FLOAT));
      // FMA only: no TF32 tensor cores, so results stay comparable with the CPU reference.
      CVAE_CUDNN_CHECK(cudnnSetConvolutionMathType(conv, CUDNN_FMA_MATH));
    } catch (...) {
      release();
      throw;
    }
  }
  ~Plan() { release(); }
  void release() noexcept {
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
    if (w) cudnnDestroyFilterDescriptor(w);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (x) cudnnDestroyTensorDescriptor(x);
    conv = nullptr;
    w = nullptr;
    x = y = nullptr;
  }
  size_t largest_bytes() const { return std::max(forward_bytes, std::max(data_bytes, filter_bytes)); }
};

namespace {

// The heuristics' ranked list, first entry that is supported, deterministic and FMA; else the
// first supported one. `what` names the op in the error when nothing is supported.
template <class Perf>
const Perf& choose(const std::vector<Perf>& ranked, int returned, const char* what) {
  const Perf* fallback = nullptr;
  for (int i = 0; i < returned; ++i) {
    const Perf& p = ranked[i];
    if (p.status != CUDNN_STATUS_SUCCESS) continue;
    if (p.determinism == CUDNN_DETERMINISTIC && p.mathType == CUDNN_FMA_MATH) return p;
    if (!fallback) fallback = &p;
  }
  if (!fallback) fail(std::string("cuDNN: no ") + what + " algorithm supports this convolution");
  return *fallback;
}

std::string geometry_text(const ConvGeometry& g) {
  char text[160];
  std::snprintf(text, sizeof text, "batch %d, %dx%dx%d -> %d channels, kernel %d stride %d pad %d",
                g.batch, g.height, g.width, g.in_channels, g.out_channels, g.kernel, g.stride,
                g.padding);
  return text;
}

}  // namespace

CudnnConvolutions::CudnnConvolutions(cudaStream_t stream) {
  CVAE_CUDNN_CHECK(cudnnCreate(&handle_));
  try {
    CVAE_CUDNN_CHECK(cudnnSetStream(handle_, stream));
  } catch (...) {
    cudnnDestroy(handle_);
    throw;
  }
}

CudnnConvolutions::~CudnnConvolutions() {
  plans_.clear();
  if (handle_) cudnnDestroy(handle_);
}

std::string CudnnConvolutions::version() {
  size_t v = cudnnGetVersion();  // major·10000 + minor·100 + patch in cuDNN 9
  return "cuDNN " + std::to_string(v / 10000) + "." + std::to_string((v / 100) % 100) + "." +
         std::to_string(v % 100);
}

size_t CudnnConvolutions::prepare(const ConvGeometry& g) {
  check_conv_geometry(g, "conv_prepare");
  auto plan = std::make_unique<Plan>(g);
  {
    int returned = 0;
    std::vector<cudnnConvolutionFwdAlgoPerf_t> ranked(CUDNN_CONVOLUTION_FWD_ALGO_COUNT);
    CVAE_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(
        handle_, plan->x, plan->w, plan->conv, plan->y, static_cast<int>(ranked.size()), &returned,
        ranked.data()));
    plan->forward_algo = choose(ranked, returned, "forward").algo;
    CVAE_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(
        handle_, plan->x, plan->w, plan->conv, plan->y, plan->forward_algo, &plan->forward_bytes));
  }
  {
    int returned = 0;
    std::vector<cudnnConvolutionBwdDataAlgoPerf_t> ranked(CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT);
    CVAE_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(
        handle_, plan->w, plan->y, plan->conv, plan->x, static_cast<int>(ranked.size()), &returned,
        ranked.data()));
    plan->data_algo = choose(ranked, returned, "backward-data").algo;
    CVAE_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(
        handle_, plan->w, plan->y, plan->conv, plan->x, plan->data_algo, &plan->data_bytes));
  }
  {
    int returned = 0;
    std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> ranked(
        CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT);
    CVAE_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
        handle_, plan->x, plan->y, plan->conv, plan->w, static_cast<int>(ranked.size()), &returned,
        ranked.data()));
    plan->filter_algo = choose(ranked, returned, "backward-filter").algo;
    CVAE_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(
        handle_, plan->x, plan->y, plan->conv, plan->w, plan->filter_algo, &plan->filter_bytes));
  }
  size_t bytes = plan->largest_bytes();
  plans_[g.key()] = std::move(plan);
  return bytes;
}

// A prepared geometry, or (first use of a smaller batch, e.g. an epoch's last one) descriptors for
// this batch with the algorithms of the nearest larger prepared batch: host work only.
const CudnnConvolutions::Plan& CudnnConvolutions::plan_for(const ConvGeometry& g, const char* op) {
  auto found = plans_.find(g.key());
  if (found != plans_.end()) return *found->second;
  check_conv_geometry(g, op);
  const Plan* larger = nullptr;
  int larger_batch = 0;
  for (const auto& [key, plan] : plans_) {
    ConvGeometry other = g;
    other.batch = std::get<0>(key);
    if (other.key() != key || other.batch < g.batch) continue;
    if (!larger || other.batch < larger_batch) {
      larger = plan.get();
      larger_batch = other.batch;
    }
  }
  if (!larger)
    fail(std::string("cuda backend: ") + op + ": convolution not prepared (" + geometry_text(g) +
         "); call conv_prepare at set-up");
  auto plan = std::make_unique<Plan>(g);
  plan->forward_algo = larger->forward_algo;
  plan->data_algo = larger->data_algo;
  plan->filter_algo = larger->filter_algo;
  CVAE_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(
      handle_, plan->x, plan->w, plan->conv, plan->y, plan->forward_algo, &plan->forward_bytes));
  CVAE_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(
      handle_, plan->w, plan->y, plan->conv, plan->x, plan->data_algo, &plan->data_bytes));
  CVAE_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(
      handle_, plan->x, plan->y, plan->conv, plan->w, plan->filter_algo, &plan->filter_bytes));
  const Plan& made = *plan;
  plans_[g.key()] = std::move(plan);
  return made;
}

namespace {
void require_scratch(size_t needed, size_t given, const char* op) {
  if (given < needed)
    fail(std::string("cuda backend: ") + op + ": scratch of " + std::to_string(given) +
         " bytes, cuDNN needs " + std::to_string(needed));
}
}  // namespace

void CudnnConvolutions::forward(const ConvGeometry& g, const float* x, const float* w, float* y,
                                void* scratch, size_t scratch_bytes) {
  if (g.batch == 0) return;
  const Plan& p = plan_for(g, "conv_forward");
  require_scratch(p.forward_bytes, scratch_bytes, "conv_forward");
  const float one = 1.0f, zero = 0.0f;
  CVAE_CUDNN_CHECK(cudnnConvolutionForward(handle_, &one, p.x, x, p.w, w, p.conv, p.forward_algo,
                                           scratch, scratch_bytes, &zero, p.y, y));
}

void CudnnConvolutions::backward_data(const ConvGeometry& g, const float* dy, const float* w,
                                      float* dx, void* scratch, size_t scratch_bytes) {
  if (g.batch == 0) return;
  const Plan& p = plan_for(g, "conv_backward_data");
  require_scratch(p.data_bytes, scratch_bytes, "conv_backward_data");
  const float one = 1.0f, zero = 0.0f;
  CVAE_CUDNN_CHECK(cudnnConvolutionBackwardData(handle_, &one, p.w, w, p.y, dy, p.conv,
                                                p.data_algo, scratch, scratch_bytes, &zero, p.x,
                                                dx));
}

void CudnnConvolutions::backward_weights(const ConvGeometry& g, const float* x, const float* dy,
                                         float* dw, void* scratch, size_t scratch_bytes) {
  const Plan& p = plan_for(g, "conv_backward_weights");
  require_scratch(p.filter_bytes, scratch_bytes, "conv_backward_weights");
  const float one = 1.0f, zero = 0.0f;
  CVAE_CUDNN_CHECK(cudnnConvolutionBackwardFilter(handle_, &one, p.x, x, p.y, dy, p.conv,
                                                  p.filter_algo, scratch, scratch_bytes, &zero,
                                                  p.w, dw));
}

}  // namespace cvae

#include "engine/backend/cuda/cudnn_conv.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "engine/backend/cuda/cuda_check.h"
#include "engine/error.h"

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
      // Channels-last everywhere, the filter too (KRSC), as engine/backend/backend.h defines them.
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

std::string geometry_text(const ConvGeometry& g) {
  char text[160];
  std::snprintf(text, sizeof text, "batch %d, %dx%dx%d -> %d channels, kernel %d stride %d pad %d",
                g.batch, g.height, g.width, g.in_channels, g.out_channels, g.kernel, g.stride,
                g.padding);
  return text;
}

const char* forward_name(cudnnConvolutionFwdAlgo_t a) {
  static const char* names[] = {"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT",
                                "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
  return a >= 0 && a < 8 ? names[a] : "?";
}
const char* data_name(cudnnConvolutionBwdDataAlgo_t a) {
  static const char* names[] = {"ALGO_0", "ALGO_1", "FFT", "FFT_TILING", "WINOGRAD",
                                "WINOGRAD_NONFUSED"};
  return a >= 0 && a < 6 ? names[a] : "?";
}
const char* filter_name(cudnnConvolutionBwdFilterAlgo_t a) {
  static const char* names[] = {"ALGO_0", "ALGO_1", "FFT", "ALGO_3", "WINOGRAD_NONFUSED",
                                "WINOGRAD", "FFT_TILING"};
  return a >= 0 && a < 7 ? names[a] : "?";
}

// Device memory for the trial runs of prepare(), freed when it goes (set-up only).
class TrialMemory {
 public:
  TrialMemory() = default;
  TrialMemory(const TrialMemory&) = delete;
  TrialMemory& operator=(const TrialMemory&) = delete;
  ~TrialMemory() {
    for (void* p : blocks_) cudaFree(p);
  }
  void* zeros(size_t bytes, cudaStream_t stream) {
    void* p = nullptr;
    CVAE_CUDA_CHECK(cudaMalloc(&p, std::max<size_t>(bytes, 256)));
    blocks_.push_back(p);
    CVAE_CUDA_CHECK(cudaMemsetAsync(p, 0, std::max<size_t>(bytes, 256), stream));
    return p;
  }

 private:
  std::vector<void*> blocks_;
};

// Runs `issue` once on the stream and waits: true when cuDNN accepted it and it ran. A refusal
// (NOT_SUPPORTED, EXECUTION_FAILED, …) is an answer here, not an error: the next algorithm is
// tried. A fault that kills the context still surfaces at the next checked call.
template <class Issue>
bool runs(const Issue& issue, cudaStream_t stream) {
  if (issue() != CUDNN_STATUS_SUCCESS) return false;
  cudaError_t done = cudaStreamSynchronize(stream);
  if (done != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  return true;
}

// The first algorithm of the heuristic's ranked list that is deterministic (the same bits on every
// run, which the recorded-step tests and a reproducible run need), whose workspace query succeeds,
// fits `max_bytes`, and which runs once (try_run). The perf struct's mathType is not a filter: the
// descriptor forces FMA math, which governs what runs. *chosen_bytes gets its workspace size.
template <class Perf, class Workspace, class TryRun>
const Perf* first_that_runs(const std::vector<Perf>& ranked, int returned, size_t max_bytes,
                            const Workspace& workspace_of, const TryRun& try_run,
                            size_t* chosen_bytes) {
  for (int i = 0; i < returned; ++i) {
    const Perf& p = ranked[i];
    if (p.status != CUDNN_STATUS_SUCCESS || p.determinism != CUDNN_DETERMINISTIC) continue;
    size_t bytes = 0;
    if (workspace_of(p.algo, &bytes) != CUDNN_STATUS_SUCCESS || bytes > max_bytes) continue;
    if (!try_run(p.algo, bytes)) continue;
    *chosen_bytes = bytes;
    return &p;
  }
  return nullptr;
}

const char* math_name(cudnnMathType_t m) {
  return m == CUDNN_FMA_MATH ? "FMA" : m == CUDNN_DEFAULT_MATH ? "default" : "tensor-op";
}

}  // namespace

CudnnConvolutions::CudnnConvolutions(cudaStream_t stream) : stream_(stream) {
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

// For each op: the heuristic's ranking, then the first deterministic algorithm that really runs
// (once, on zeros, at set-up), so that neither the recorded step nor an eager step meets an
// algorithm cuDNN refuses at execution. The choice is logged, one line per geometry.
size_t CudnnConvolutions::prepare(const ConvGeometry& g) {  // g checked by Backend::conv_prepare
  auto plan = std::make_unique<Plan>(g);
  Plan& p = *plan;
  TrialMemory memory;
  float* x = static_cast<float*>(memory.zeros(sizeof(float) * g.x_count(), stream_));
  float* w = static_cast<float*>(memory.zeros(sizeof(float) * g.w_count(), stream_));
  float* y = static_cast<float*>(memory.zeros(sizeof(float) * g.y_count(), stream_));
  void* trial_workspace = nullptr;
  size_t trial_bytes = 0;
  auto workspace = [&](size_t bytes) {
    if (bytes > trial_bytes) {
      trial_workspace = memory.zeros(bytes, stream_);
      trial_bytes = bytes;
    }
    return trial_workspace;
  };
  const float one = 1.0f, zero = 0.0f;
  const size_t no_limit = SIZE_MAX;
  const std::string where = geometry_text(g);
  std::string math;
  {
    int returned = 0;
    std::vector<cudnnConvolutionFwdAlgoPerf_t> ranked(CUDNN_CONVOLUTION_FWD_ALGO_COUNT);
    CVAE_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(
        handle_, p.x, p.w, p.conv, p.y, static_cast<int>(ranked.size()), &returned, ranked.data()));
    const auto* chosen = first_that_runs(
        ranked, returned, no_limit,
        [&](cudnnConvolutionFwdAlgo_t a, size_t* bytes) {
          return cudnnGetConvolutionForwardWorkspaceSize(handle_, p.x, p.w, p.conv, p.y, a, bytes);
        },
        [&](cudnnConvolutionFwdAlgo_t a, size_t bytes) {
          void* ws = workspace(bytes);
          return runs([&] { return cudnnConvolutionForward(handle_, &one, p.x, x, p.w, w, p.conv, a, ws,
                                                           bytes, &zero, p.y, y); }, stream_);
        },
        &p.forward_bytes);
    if (!chosen) fail("cuDNN: no deterministic forward algorithm runs for this convolution (" + where + ")");
    p.forward_algo = chosen->algo;
    math = math_name(chosen->mathType);
  }
  {
    int returned = 0;
    std::vector<cudnnConvolutionBwdDataAlgoPerf_t> ranked(CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT);
    CVAE_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(
        handle_, p.w, p.y, p.conv, p.x, static_cast<int>(ranked.size()), &returned, ranked.data()));
    const auto* chosen = first_that_runs(
        ranked, returned, no_limit,
        [&](cudnnConvolutionBwdDataAlgo_t a, size_t* bytes) {
          return cudnnGetConvolutionBackwardDataWorkspaceSize(handle_, p.w, p.y, p.conv, p.x, a, bytes);
        },
        [&](cudnnConvolutionBwdDataAlgo_t a, size_t bytes) {
          void* ws = workspace(bytes);
          return runs([&] { return cudnnConvolutionBackwardData(handle_, &one, p.w, w, p.y, y, p.conv, a,
                                                                ws, bytes, &zero, p.x, x); }, stream_);
        },
        &p.data_bytes);
    if (!chosen) fail("cuDNN: no deterministic backward-data algorithm runs for this convolution (" + where + ")");
    p.data_algo = chosen->algo;
    math += std::string("/") + math_name(chosen->mathType);
  }
  {
    int returned = 0;
    std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> ranked(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT);
    CVAE_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
        handle_, p.x, p.y, p.conv, p.w, static_cast<int>(ranked.size()), &returned, ranked.data()));
    const auto* chosen = first_that_runs(
        ranked, returned, no_limit,
        [&](cudnnConvolutionBwdFilterAlgo_t a, size_t* bytes) {
          return cudnnGetConvolutionBackwardFilterWorkspaceSize(handle_, p.x, p.y, p.conv, p.w, a, bytes);
        },
        [&](cudnnConvolutionBwdFilterAlgo_t a, size_t bytes) {
          void* ws = workspace(bytes);
          return runs([&] { return cudnnConvolutionBackwardFilter(handle_, &one, p.x, x, p.y, y, p.conv, a,
                                                                  ws, bytes, &zero, p.w, w); }, stream_);
        },
        &p.filter_bytes);
    if (!chosen) fail("cuDNN: no deterministic backward-filter algorithm runs for this convolution (" + where + ")");
    p.filter_algo = chosen->algo;
    math += std::string("/") + math_name(chosen->mathType);
  }
  std::fprintf(stderr,
               "cuDNN: %s: forward %s (%zu B), backward-data %s (%zu B), backward-filter %s "
               "(%zu B); deterministic, reported math %s, descriptor FMA\n",
               where.c_str(), forward_name(p.forward_algo), p.forward_bytes, data_name(p.data_algo),
               p.data_bytes, filter_name(p.filter_algo), p.filter_bytes, math.c_str());
  size_t bytes = p.largest_bytes();
  plans_[g.key()] = std::move(plan);
  return bytes;
}

// A prepared geometry, or (first use of a smaller batch, e.g. an epoch's last one) descriptors for
// this batch with the algorithms of the nearest larger prepared batch: host work only. Each
// algorithm is kept where cuDNN still takes it at this batch within the larger batch's scratch;
// otherwise the heuristic's first deterministic one that fits is taken instead (not tried: this
// runs inside training, where an untried algorithm that fails stops the run with cuDNN's error).
const CudnnConvolutions::Plan& CudnnConvolutions::plan_for(const ConvGeometry& g, const char* op) {
  auto found = plans_.find(g.key());
  if (found != plans_.end()) return *found->second;
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
  Plan& p = *plan;
  const size_t limit = larger->largest_bytes();
  const std::string where = geometry_text(g);
  auto untried = [](auto, size_t) { return true; };
  {
    auto workspace_of = [&](cudnnConvolutionFwdAlgo_t a, size_t* bytes) {
      return cudnnGetConvolutionForwardWorkspaceSize(handle_, p.x, p.w, p.conv, p.y, a, bytes);
    };
    p.forward_algo = larger->forward_algo;
    if (workspace_of(p.forward_algo, &p.forward_bytes) != CUDNN_STATUS_SUCCESS || p.forward_bytes > limit) {
      int returned = 0;
      std::vector<cudnnConvolutionFwdAlgoPerf_t> ranked(CUDNN_CONVOLUTION_FWD_ALGO_COUNT);
      CVAE_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(
          handle_, p.x, p.w, p.conv, p.y, static_cast<int>(ranked.size()), &returned, ranked.data()));
      const auto* chosen = first_that_runs(ranked, returned, limit, workspace_of, untried, &p.forward_bytes);
      if (!chosen) fail(std::string("cuDNN: ") + op + ": no deterministic forward algorithm fits (" + where + ")");
      p.forward_algo = chosen->algo;
    }
  }
  {
    auto workspace_of = [&](cudnnConvolutionBwdDataAlgo_t a, size_t* bytes) {
      return cudnnGetConvolutionBackwardDataWorkspaceSize(handle_, p.w, p.y, p.conv, p.x, a, bytes);
    };
    p.data_algo = larger->data_algo;
    if (workspace_of(p.data_algo, &p.data_bytes) != CUDNN_STATUS_SUCCESS || p.data_bytes > limit) {
      int returned = 0;
      std::vector<cudnnConvolutionBwdDataAlgoPerf_t> ranked(CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT);
      CVAE_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(
          handle_, p.w, p.y, p.conv, p.x, static_cast<int>(ranked.size()), &returned, ranked.data()));
      const auto* chosen = first_that_runs(ranked, returned, limit, workspace_of, untried, &p.data_bytes);
      if (!chosen) fail(std::string("cuDNN: ") + op + ": no deterministic backward-data algorithm fits (" + where + ")");
      p.data_algo = chosen->algo;
    }
  }
  {
    auto workspace_of = [&](cudnnConvolutionBwdFilterAlgo_t a, size_t* bytes) {
      return cudnnGetConvolutionBackwardFilterWorkspaceSize(handle_, p.x, p.y, p.conv, p.w, a, bytes);
    };
    p.filter_algo = larger->filter_algo;
    if (workspace_of(p.filter_algo, &p.filter_bytes) != CUDNN_STATUS_SUCCESS || p.filter_bytes > limit) {
      int returned = 0;
      std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> ranked(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT);
      CVAE_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
          handle_, p.x, p.y, p.conv, p.w, static_cast<int>(ranked.size()), &returned, ranked.data()));
      const auto* chosen = first_that_runs(ranked, returned, limit, workspace_of, untried, &p.filter_bytes);
      if (!chosen) fail(std::string("cuDNN: ") + op + ": no deterministic backward-filter algorithm fits (" + where + ")");
      p.filter_algo = chosen->algo;
    }
  }
  const Plan& made = p;
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

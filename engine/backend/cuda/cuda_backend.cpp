// The CUDA backend (see cuda_backend.h). Every op checks shapes once, as the CPU backend does, then
// enqueues work on the backend's one stream: a custom kernel (kernels/kernels.h) or a cuBLAS call.
// Only upload and download wait for the stream (the host memory must be complete when they
// return); everything else is asynchronous and ordered by the stream.
#include "engine/backend/cuda/cuda_backend.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "engine/backend/cuda/cublaslt_linear.h"
#include "engine/backend/cuda/cuda_check.h"
#include "engine/backend/cuda/cudnn_conv.h"
#include "engine/error.h"
#include "kernels/kernels.h"

namespace cvae {

namespace {

// cuBLAS's workspace (its recommendation for Hopper is 32 MiB).
constexpr size_t kCublasWorkspaceBytes = size_t(32) << 20;

// Lloyd's assignment takes the GEMM route (kernels/lloyd.cu) from this many centroids on; below,
// the direct kernel. CLUSTERVAE_LLOYD_GEMM_MIN_K overrides it (bench/README.md: both routes are
// timed on the device by scripts/gpu-check.sh; the default is to be set from those figures).
constexpr int kLloydGemmMinK = 64;
// The GEMM route works on tiles of rows whose dot products fit this many floats (64 MiB).
constexpr int64_t kLloydDotsFloats = int64_t(1) << 24;

// CLUSTERVAE_CUBLASLT=0 turns the fused cuBLASLt linear forward off (GEMM + bias_act kernel instead):
// for comparing the two on a GPU, and as the way round a cuBLASLt that misbehaves.
bool cublaslt_from_environment() {
  const char* text = std::getenv("CLUSTERVAE_CUBLASLT");
  if (!text || !*text) return true;
  const std::string value = text;
  if (value == "0") return false;
  if (value == "1") return true;
  fail("CLUSTERVAE_CUBLASLT: '" + value + "' is not 0 or 1");
}

int lloyd_gemm_min_k_from_environment() {
  const char* text = std::getenv("CLUSTERVAE_LLOYD_GEMM_MIN_K");
  if (!text || !*text) return kLloydGemmMinK;
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < 1)
    fail(std::string("CLUSTERVAE_LLOYD_GEMM_MIN_K: '") + text + "' is not a positive integer");
  return value > 1 << 30 ? 1 << 30 : static_cast<int>(value);
}

// The *_impl ops below are reached only through Backend's checked entries (engine/backend/backend.h):
// code outside this file holds a Backend&, never a CudaBackend.
class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int device)
      : device_(device),
        lloyd_gemm_min_k_(lloyd_gemm_min_k_from_environment()),  // bad values stop here, before
        use_cublaslt_(cublaslt_from_environment()) {             // anything is made
    CVAE_CUDA_CHECK(cudaSetDevice(device_));
    CVAE_CUDA_CHECK(cudaGetDeviceProperties(&properties_, device_));
    CVAE_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    try {
      CVAE_CUBLAS_CHECK(cublasCreate(&cublas_));
      CVAE_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
      // Plain FP32 GEMMs (no TF32), so results stay comparable with the CPU reference.
      CVAE_CUBLAS_CHECK(cublasSetMathMode(cublas_, CUBLAS_DEFAULT_MATH));
      CVAE_CUBLAS_CHECK(cublasSetPointerMode(cublas_, CUBLAS_POINTER_MODE_HOST));
      // cuBLAS's own workspace, made once: a captured step must not allocate (CUDA Graphs).
      CVAE_CUDA_CHECK(cudaMalloc(&cublas_workspace_, kCublasWorkspaceBytes));
      // The bias gradient's per-chunk partial sums (kernels/bias_act.cu), made once for the same
      // reason; a fixed size, so the chunking of a shape never depends on what ran before.
      CVAE_CUDA_CHECK(cudaMalloc(&bias_partials_, sizeof(float) * kernels::kBiasActBackwardScratchFloats));
      // begin_read's landing place (pinned, so the copy is truly asynchronous) and its event.
      CVAE_CUDA_CHECK(cudaMallocHost(&polled_, kMaxPolledRead));
      CVAE_CUDA_CHECK(cudaEventCreateWithFlags(&polled_arrived_, cudaEventDisableTiming));
      CVAE_CUBLAS_CHECK(cublasSetWorkspace(cublas_, cublas_workspace_, kCublasWorkspaceBytes));
      convolutions_ = std::make_unique<CudnnConvolutions>(stream_);
      if (use_cublaslt_)
        fused_linear_ = std::make_unique<CublasLtLinear>(stream_, cublas_workspace_, kCublasWorkspaceBytes);
    } catch (...) {
      // Nulled as they go, so that nothing here can be destroyed twice.
      if (cublas_) cublasDestroy(cublas_);
      if (cublas_workspace_) cudaFree(cublas_workspace_);
      if (bias_partials_) cudaFree(bias_partials_);
      if (polled_) cudaFreeHost(polled_);
      if (polled_arrived_) cudaEventDestroy(polled_arrived_);
      cudaStreamDestroy(stream_);
      cublas_ = nullptr;
      cublas_workspace_ = nullptr;
      bias_partials_ = nullptr;
      polled_ = nullptr;
      polled_arrived_ = nullptr;
      stream_ = nullptr;
      throw;
    }
  }

  ~CudaBackend() override {
    // Destructors must not throw: failures here are reported and otherwise ignored.
    report_failure([&] { CVAE_CUDA_CHECK(cudaStreamSynchronize(stream_)); });
    if (scratch_) report_failure([&] { CVAE_CUDA_CHECK(cudaFree(scratch_)); });
    if (float_scratch_) report_failure([&] { CVAE_CUDA_CHECK(cudaFree(float_scratch_)); });
    drop_graph();
    convolutions_.reset();
    fused_linear_.reset();
    report_failure([&] { CVAE_CUBLAS_CHECK(cublasDestroy(cublas_)); });
    if (cublas_workspace_) report_failure([&] { CVAE_CUDA_CHECK(cudaFree(cublas_workspace_)); });
    if (bias_partials_) report_failure([&] { CVAE_CUDA_CHECK(cudaFree(bias_partials_)); });
    if (polled_) report_failure([&] { CVAE_CUDA_CHECK(cudaFreeHost(polled_)); });
    if (polled_arrived_) report_failure([&] { CVAE_CUDA_CHECK(cudaEventDestroy(polled_arrived_)); });
    report_failure([&] { CVAE_CUDA_CHECK(cudaStreamDestroy(stream_)); });
  }

  std::string name() const override { return "cuda"; }
  bool supports(Capability capability) const override {
    switch (capability) {
      case Capability::record_step: return true;
      case Capability::fused_linear: return fused_linear_ != nullptr;
      case Capability::all_pairs_tsne: return true;
    }
    return false;
  }

  std::string device_description() const override {
    int driver = 0, runtime = 0;
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    char text[512];
    std::snprintf(text, sizeof text,
                  "%s (device %d, compute capability %d.%d, %d SMs, %.1f GiB; driver %d.%d, "
                  "runtime %d.%d)",
                  properties_.name, device_, properties_.major, properties_.minor,
                  properties_.multiProcessorCount,
                  static_cast<double>(properties_.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0),
                  driver / 1000, (driver % 1000) / 10, runtime / 1000, (runtime % 1000) / 10);
    // The library versions loaded at run time (not those built against): cuBLAS and cuDNN come
    // from the machine, so they are what a result depends on.
    int major = 0, minor = 0, patch = 0;
    cublasGetProperty(MAJOR_VERSION, &major);
    cublasGetProperty(MINOR_VERSION, &minor);
    cublasGetProperty(PATCH_LEVEL, &patch);
    return std::string(text) + ", cuBLAS " + std::to_string(major) + "." + std::to_string(minor) +
           "." + std::to_string(patch) + ", " + CudnnConvolutions::version();
  }

  // ---- memory ----
  Buffer allocate(size_t bytes) override {
    size_t rounded = std::max<size_t>(256, (bytes + 255) / 256 * 256);
    void* data = nullptr;
    CVAE_CUDA_CHECK(cudaMalloc(&data, rounded));
    CVAE_CUDA_CHECK(cudaMemsetAsync(data, 0, rounded, stream_));
    return Buffer(this, data, bytes);
  }

  void release(void* data) override {
    // Called from Buffer's destructor: the stream may still use the memory, so wait first.
    report_failure([&] {
      CVAE_CUDA_CHECK(cudaStreamSynchronize(stream_));
      CVAE_CUDA_CHECK(cudaFree(data));
    });
  }

  void upload(void* dst, const void* src_host, size_t bytes) override {
    if (bytes == 0) return;
    CVAE_CUDA_CHECK(cudaMemcpyAsync(dst, src_host, bytes, cudaMemcpyHostToDevice, stream_));
    CVAE_CUDA_CHECK(cudaStreamSynchronize(stream_));  // the caller may reuse src_host at once
  }

  void download(void* dst_host, const void* src, size_t bytes) override {
    if (bytes == 0) return;
    CVAE_CUDA_CHECK(cudaMemcpyAsync(dst_host, src, bytes, cudaMemcpyDeviceToHost, stream_));
    CVAE_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

  void copy(void* dst, const void* src, size_t bytes) override {
    if (bytes == 0) return;
    CVAE_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream_));
  }

  void fill_impl(float* data, int64_t count, float value) override {
    kernels::fill(data, count, value, stream_);
  }

  void synchronize() override { CVAE_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

  // The copy and an event go on the stream behind the work already queued; poll_read asks the
  // event (cudaEventQuery never waits), so the host keeps launching steps meanwhile.
  void begin_read_impl(const void* src, size_t bytes) override {
    CVAE_CUDA_CHECK(cudaMemcpyAsync(polled_, src, bytes, cudaMemcpyDeviceToHost, stream_));
    CVAE_CUDA_CHECK(cudaEventRecord(polled_arrived_, stream_));
  }

  bool poll_read_impl(void* dst_host, size_t bytes) override {
    cudaError_t status = cudaEventQuery(polled_arrived_);
    if (status == cudaErrorNotReady) {
      // NotReady is an answer, not a failure, but the runtime also leaves it in this thread's
      // last-error slot, where the next launcher's cudaGetLastError() check would take it for a
      // failed launch. Clear it here (NotReady is not sticky: nothing else is lost).
      (void)cudaGetLastError();
      return false;
    }
    CVAE_CUDA_CHECK(status);
    std::memcpy(dst_host, polled_, bytes);
    return true;
  }

  // ---- dense algebra ----
  // Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ, and a row-major matrix with
  // leading dimension ld is its transpose in column-major with the same ld. So cuBLAS gets the
  // operands swapped (B first), the sizes (n, m, k), and each operand's own transpose flag.
  void gemm_impl(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
            const float* b, int ldb, float beta, float* c, int ldc) override {
    if (m == 0 || n == 0) return;
    // With k = 0 the operands are not read (C = beta·C), but cuBLAS still wants ld >= 1.
    CVAE_CUBLAS_CHECK(cublasSgemm(cublas_, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                  trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &alpha, b,
                                  std::max(ldb, 1), a, std::max(lda, 1), &beta, c, ldc));
  }

  void bias_act_forward_impl(float* y, int ld, const float* bias, int rows, int cols,
                        Activation act) override {
    kernels::bias_act_forward(y, ld, bias, rows, cols, act, stream_);
  }

  void bias_act_backward_impl(float* dy, int ld_dy, const float* y, int ld_y, float* dbias, int rows,
                         int cols, Activation act) override {
    kernels::bias_act_backward(dy, ld_dy, y, ld_y, dbias, rows, cols, act,
                               static_cast<float*>(bias_partials_),
                               kernels::kBiasActBackwardScratchFloats, stream_);
  }

  void linear_bias_act_impl(int rows, int out, int in, const float* x, int ld_x, const float* w,
                       const float* bias, float* y, int ld_y, Activation act) override {
    if (fused_linear_ && fused_linear_->forward(rows, out, in, x, ld_x, w, bias, y, ld_y, act)) {
      ++counters_.fused_linear;
      return;
    }
    ++counters_.unfused_linear;
    gemm(false, true, rows, out, in, 1.0f, x, ld_x, w, in, 0.0f, y, ld_y);
    bias_act_forward(y, ld_y, bias, rows, out, act);
  }

  // ---- the step's varying inputs ----
  void select_batch_impl(const int32_t* order, const StepState* state, int batch,
                    int32_t* batch_indices) override {
    kernels::select_batch(order, state, batch, batch_indices, stream_);
  }

  void advance_step_impl(StepState* state, int batch, const AdamArgs& args) override {
    kernels::advance_step(state, batch, args, stream_);
  }

  // ---- a recorded step: one CUDA Graph ----
  // Capture records everything issued on the stream (kernels, cuBLAS, cuDNN) without running it;
  // nothing may allocate or synchronise in between (the workspace is made before, cuBLAS has its
  // own workspace, set at creation). The graph is instantiated once and launched per replay.
  bool begin_capture() override {
    drop_graph();
    CVAE_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
    capturing_ = true;
    return true;
  }

  void end_capture() override {
    cudaGraph_t graph = nullptr;
    capturing_ = false;
    CVAE_CUDA_CHECK(cudaStreamEndCapture(stream_, &graph));
    cudaError_t made = cudaGraphInstantiate(&graph_exec_, graph, 0);
    cudaGraphDestroy(graph);
    if (made != cudaSuccess) {
      graph_exec_ = nullptr;
      CVAE_CUDA_CHECK(made);
    }
  }

  void replay() override {
    require(graph_exec_ != nullptr, "replay", "nothing was captured");
    CVAE_CUDA_CHECK(cudaGraphLaunch(graph_exec_, stream_));
    ++counters_.graph_replays;
  }

  Counters counters() const override { return counters_; }

  void abort_capture() override {
    if (capturing_) {
      cudaGraph_t graph = nullptr;
      cudaStreamEndCapture(stream_, &graph);  // ends the (invalidated) capture; errors expected
      if (graph) cudaGraphDestroy(graph);
      capturing_ = false;
    }
    cudaGetLastError();
    drop_graph();
  }

  // ---- data ----
  void gather_images_impl(const uint8_t* images, const int32_t* indices, int batch, int pixels,
                     float* x, int ld_x) override {
    kernels::gather_images(images, indices, batch, pixels, x, ld_x, stream_);
  }

  void write_one_hot_impl(const int32_t* labels, const int32_t* indices, int batch, int classes,
                     float* x, int ld_x) override {
    kernels::write_one_hot(labels, indices, batch, classes, x, ld_x, stream_);
  }

  // ---- the VAE's own ops ----
  void reparam_kl_forward_impl(const float* mu_logvar, const int32_t* batch_indices, int batch,
                          int latent, const PriorArgs& prior, RngPosition rng,
                          uint32_t batch_offset, bool sample, float* z, int ld_z,
                          float* kl) override {
    kernels::reparam_kl_forward(mu_logvar, batch_indices, batch, latent, prior, rng, batch_offset,
                                sample, z, ld_z, kl, stream_);
  }

  void reparam_kl_backward_impl(const float* mu_logvar, const int32_t*, int batch, int latent,
                           const PriorArgs& prior, RngPosition rng, uint32_t batch_offset,
                           const float* dz, int ld_dz, float kl_weight,
                           float* d_mu_logvar) override {
    kernels::reparam_kl_backward(mu_logvar, batch, latent, prior, rng, batch_offset, dz, ld_dz,
                                 kl_weight, d_mu_logvar, stream_);
  }

  void bce_with_logits_impl(const float* logits, const uint8_t* images, const int32_t* indices,
                       int batch, int pixels, float grad_scale, float* loss,
                       float* dlogits) override {
    kernels::bce_with_logits(logits, images, indices, batch, pixels, grad_scale, loss, dlogits,
                             stream_);
  }

  void adam_step_impl(float* params, const float* grads, float* m, float* v, int64_t count,
                 const AdamArgs& args) override {
    kernels::adam_step(params, grads, m, v, count, args, stream_);
  }

  void accumulate_sum_impl(const float* values, int count, double* acc) override {
    kernels::accumulate_sum(values, count, acc, stream_);
  }

  // ---- convolution (cuDNN, engine/backend/cuda/cudnn_conv.h) ----
  size_t conv_prepare_impl(const ConvGeometry& g) override { return convolutions_->prepare(g); }

  void conv_forward_impl(const ConvGeometry& g, const float* x, const float* w, float* y,
                    void* scratch, size_t scratch_bytes) override {
    convolutions_->forward(g, x, w, y, scratch, scratch_bytes);
  }

  void conv_backward_data_impl(const ConvGeometry& g, const float* dy, const float* w, float* dx,
                          void* scratch, size_t scratch_bytes) override {
    convolutions_->backward_data(g, dy, w, dx, scratch, scratch_bytes);
  }

  void conv_backward_weights_impl(const ConvGeometry& g, const float* x, const float* dy, float* dw,
                             void* scratch, size_t scratch_bytes) override {
    if (g.batch == 0) {  // no images: the gradient is zero (cuDNN takes no empty tensors)
      fill(dw, g.w_count(), 0.0f);
      return;
    }
    convolutions_->backward_weights(g, x, dy, dw, scratch, scratch_bytes);
  }

  // ---- k-means (Lloyd) ----
  void lloyd_assign_impl(const float* points, int n, int dim, int ld, const float* centroids, int k,
                    int32_t* assignment, float* distance) override {
    if (k < lloyd_gemm_min_k_ || n <= 0) {
      kernels::lloyd_assign(points, n, dim, ld, centroids, k, assignment, distance, stream_);
      return;
    }
    // GEMM route: ‖c‖² once, then per tile of rows dots = P·Cᵀ (cuBLAS) and the argmin kernel.
    const int tile_rows = static_cast<int>(std::min<int64_t>(n, std::max<int64_t>(1, kLloydDotsFloats / k)));
    float* norms = scratch_floats(static_cast<int64_t>(tile_rows) * k + k);
    float* dots = norms + k;
    kernels::squared_norms(centroids, k, dim, dim, norms, stream_);
    for (int first = 0; first < n; first += tile_rows) {
      const int rows = std::min(tile_rows, n - first);
      const float* tile = points + static_cast<int64_t>(first) * ld;
      gemm(false, true, rows, k, dim, 1.0f, tile, ld, centroids, dim, 0.0f, dots, k);
      kernels::lloyd_assign_from_dots(dots, rows, k, tile, dim, ld, centroids, norms,
                                      assignment + first, distance ? distance + first : nullptr,
                                      stream_);
    }
  }

  void lloyd_accumulate_impl(const float* points, int n, int dim, int ld, const int32_t* assignment,
                        int k, float* sums, float* counts) override {
    double* scratch = scratch_doubles(kernels::lloyd_accumulate_scratch_doubles(n, dim, k));
    kernels::lloyd_accumulate(points, n, dim, ld, assignment, k, sums, counts, scratch, stream_);
  }

  void lloyd_count_changes_impl(const int32_t* assignment, int32_t* previous, int n,
                           int32_t* status) override {
    kernels::lloyd_count_changes(assignment, previous, n, status, stream_);
  }

  void lloyd_update_impl(const float* sums, const float* counts, int k, int dim, float* centroids,
                    int32_t* status) override {
    kernels::lloyd_update(sums, counts, k, dim, centroids, status, stream_);
  }

  void tsne_forces_impl(const double* y, int n, const int64_t* row_start, const int32_t* column,
                   const double* value, double* sum_q, double* repulsive,
                   double* attractive) override {
    kernels::tsne_forces(y, n, row_start, column, value, sum_q, repulsive, attractive, stream_);
  }

  void kmeans_plus_plus_impl(const float* points, int n, int dim, int ld, int k, uint64_t seed,
                        float* centroids) override {
    double* scratch = scratch_doubles(kernels::kmeans_plus_plus_scratch_doubles(n));
    kernels::kmeans_plus_plus(points, n, dim, ld, k, seed, centroids, scratch, stream_);
  }

 private:
  template <class Body>
  static void report_failure(const Body& body) noexcept {
    try {
      body();
    } catch (const std::exception& error) {
      std::fprintf(stderr, "cuda backend: %s\n", error.what());
    }
  }

  // Scratch outside the training step (Lloyd's partial sums and the GEMM route's dot products,
  // k-means++): grows when a larger problem comes, never shrinks. Lloyd runs between epochs, so
  // these allocations never fall inside a step.
  double* scratch_doubles(int64_t count) {
    return static_cast<double*>(grown(scratch_, scratch_bytes_, static_cast<size_t>(count) * sizeof(double)));
  }
  float* scratch_floats(int64_t count) {
    return static_cast<float*>(grown(float_scratch_, float_scratch_bytes_, static_cast<size_t>(count) * sizeof(float)));
  }
  void* grown(void*& buffer, size_t& capacity, size_t bytes) {
    if (bytes > capacity) {
      // Synchronising, freeing and allocating are all illegal inside a stream capture.
      require(!capturing_, "scratch", "would grow inside a recorded step");
      if (buffer) {
        CVAE_CUDA_CHECK(cudaStreamSynchronize(stream_));
        CVAE_CUDA_CHECK(cudaFree(buffer));
        buffer = nullptr;
        capacity = 0;
      }
      CVAE_CUDA_CHECK(cudaMalloc(&buffer, bytes));
      capacity = bytes;
    }
    return buffer;
  }

  void drop_graph() noexcept {
    if (graph_exec_) cudaGraphExecDestroy(graph_exec_);
    graph_exec_ = nullptr;
  }

  int device_;
  int lloyd_gemm_min_k_;
  bool use_cublaslt_;
  cudaDeviceProp properties_{};
  cudaGraphExec_t graph_exec_ = nullptr;
  bool capturing_ = false;
  Counters counters_;
  void* cublas_workspace_ = nullptr;
  void* bias_partials_ = nullptr;        // kernels::kBiasActBackwardScratchFloats floats
  void* polled_ = nullptr;               // pinned host memory for begin_read
  cudaEvent_t polled_arrived_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  std::unique_ptr<CudnnConvolutions> convolutions_;
  std::unique_ptr<CublasLtLinear> fused_linear_;  // null when CLUSTERVAE_CUBLASLT=0
  void* scratch_ = nullptr;
  size_t scratch_bytes_ = 0;
  void* float_scratch_ = nullptr;
  size_t float_scratch_bytes_ = 0;
};

}  // namespace

int cuda_device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // no driver or no device: not an error for the caller, just none
    return 0;
  }
  return count;
}

std::unique_ptr<Backend> make_cuda_backend(int device) {
  int count = cuda_device_count();
  if (device < 0 || device >= count)
    fail("cuda backend: device " + std::to_string(device) + " is not present (" +
         std::to_string(count) + " CUDA devices)");
  return std::make_unique<CudaBackend>(device);
}

}  // namespace cvae

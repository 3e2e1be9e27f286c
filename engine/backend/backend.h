// The one interface between the model code and the hardware. The model, prior, k-means and trainer
// call only these ops; engine/backend/cpu/ (the reference) and engine/backend/cuda/ (the fast path) implement every
// one of them, and tests run each op on both from the same inputs.
//
// Conventions: matrices are row-major; `ld` is the distance in floats between the starts of two rows,
// so a block of columns inside a wider buffer is passed as (pointer to its first column, ld of the
// wider buffer). All pointers are in the backend's own memory (see allocate/upload/download).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>

#include "engine/backend/step_math.h"
#include "engine/rng.h"

namespace cvae {

enum class Activation { none, relu };

// The prior p(z) of one sample, as a mean vector; its covariance is always the identity.
enum class PriorKind {
  standard,          // N(0, I)
  class_mean,        // N(means[label], I): lambda-hot (means = λ·e_y) and movable class centres
  nearest_centroid,  // N(means[k*], I), k* = argmin_k ‖μ − means[k]‖²: the K-Means VAE
};

struct PriorArgs {
  PriorKind kind = PriorKind::standard;
  const float* means = nullptr;     // [num_means, latent] (class_mean, nearest_centroid)
  int num_means = 0;
  const int32_t* labels = nullptr;  // the data set's labels, indexed through batch_indices (class_mean)
  int32_t* chosen = nullptr;        // [batch] out: index of the mean used per sample (−1 for standard)
};

struct AdamArgs {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  int64_t step = 1;  // 1-based, for the bias correction
  // A replayed step: the bias-corrected constants of its step are read from backend memory
  // (StepState::adam_step_size, then adam_inv_sqrt_correction2), and `step` is not used.
  const float* constants_in_memory = nullptr;
};

// The varying inputs of one training step, kept in backend memory so that the same recorded
// step (one CUDA Graph) can be replayed: select_batch reads `start`, reparam_kl reads `step`
// (RngPosition::step_in_memory), adam_step reads the two constants; advance_step moves them on.
struct StepState {
  uint32_t step = 1;  // 1-based global step: the noise position and Adam's bias correction
  int32_t start = 0;  // first row of this batch in the epoch's order
  float adam_step_size = 0;             // lr / (1 − β1ᵗ)
  float adam_inv_sqrt_correction2 = 0;  // 1 / √(1 − β2ᵗ)
};

// Adam's bias-corrected constants for `step` (engine/backend/step_math.h), as a StepState at `start`.
inline StepState step_state_at(uint32_t step, int32_t start, const AdamArgs& args) {
  const AdamCorrection c = adam_correction(static_cast<double>(step), args.lr, args.beta1, args.beta2);
  StepState s;
  s.step = step;
  s.start = start;
  s.adam_step_size = c.step_size;
  s.adam_inv_sqrt_correction2 = c.inv_sqrt_correction2;
  return s;
}

// A 2-D convolution over a batch of channels-last (NHWC) images, cross-correlation as in PyTorch:
//   y[b, oy, ox, co] = Σ_{ky, kx, ci} x[b, oy·stride + ky − pad, ox·stride + kx − pad, ci] · w[co, ky, kx, ci]
// (x is zero outside the image). The filter is stored channels-last too, [out, k, k, in] (cuDNN's
// KRSC; PyTorch's Conv2d weight is w.permute(0, 3, 1, 2) of it). No bias: that is bias_act_* over
// rows = batch·out_height·out_width, cols = out_channels. A transposed convolution is this
// convolution's backward_data (and its backward is this forward), see engine/nn/conv_net.cpp.
struct ConvGeometry {
  int batch = 0;
  int in_channels = 0, height = 0, width = 0;  // x: [batch, height, width, in_channels]
  int out_channels = 0, kernel = 1, stride = 1, padding = 0;
  int out_height() const { return (height + 2 * padding - kernel) / stride + 1; }
  int out_width() const { return (width + 2 * padding - kernel) / stride + 1; }
  int64_t x_count() const { return static_cast<int64_t>(batch) * height * width * in_channels; }
  int64_t y_count() const {
    return static_cast<int64_t>(batch) * out_height() * out_width() * out_channels;
  }
  int64_t w_count() const {
    return static_cast<int64_t>(out_channels) * kernel * kernel * in_channels;
  }
  auto key() const {
    return std::make_tuple(batch, in_channels, height, width, out_channels, kernel, stride, padding);
  }
};

class Backend;

// The most bytes Backend::begin_read takes.
constexpr size_t kMaxPolledRead = 256;

// Move-only memory owned by a backend ("to prevent performance accidents", copies are explicit).
class Buffer {
 public:
  Buffer() = default;
  Buffer(Backend* owner, void* data, size_t bytes) : owner_(owner), data_(data), bytes_(bytes) {}
  Buffer(Buffer&& other) noexcept { swap(other); }
  Buffer& operator=(Buffer&& other) noexcept { Buffer(std::move(other)).swap(*this); return *this; }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer();

  template <class T> T* as() const { return static_cast<T*>(data_); }
  float* f32() const { return as<float>(); }
  size_t bytes() const { return bytes_; }
  bool empty() const { return data_ == nullptr; }

 private:
  void swap(Buffer& other) noexcept {
    std::swap(owner_, other.owner_); std::swap(data_, other.data_); std::swap(bytes_, other.bytes_);
  }
  Backend* owner_ = nullptr;
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

// What a backend can do beyond the ops every backend runs, for callers that choose a path.
enum class Capability {
  record_step,     // begin_capture … end_capture records a step that replay() runs (CUDA Graphs)
  fused_linear,    // linear_bias_act runs as one matmul with a bias/ReLU epilogue (cuBLASLt)
  all_pairs_tsne,  // tsne_forces over all pairs is fast enough for the report's 10,000 points
};

// The one interface every op of training, evaluation and the report goes through. Every op is a
// public, non-virtual entry that checks its arguments once, for every backend (engine/backend/backend.cpp:
// an Error "<backend> backend: <op>: <problem>"), and then calls the backend's protected *_impl.
// A backend implements the *_impl functions and never repeats the checks.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;   // "cpu" or "cuda"
  virtual std::string device_description() const = 0;
  virtual bool supports(Capability) const { return false; }

  // ---- memory ----
  virtual Buffer allocate(size_t bytes) = 0;  // zero-filled
  virtual void release(void* data) = 0;
  virtual void upload(void* dst, const void* src_host, size_t bytes) = 0;
  virtual void download(void* dst_host, const void* src, size_t bytes) = 0;
  virtual void copy(void* dst, const void* src, size_t bytes) = 0;
  virtual void synchronize() = 0;
  void fill(float* data, int64_t count, float value);
  // A read that does not wait (the progress line inside an epoch): begin_read queues a copy of
  // `bytes` (at most kMaxPolledRead) from backend memory, taken once the work queued before it is
  // done; poll_read copies it to dst_host and returns true when it has arrived, false (at once)
  // while it is still on its way, or when no read was begun. One read at a time: a new begin_read
  // replaces the one in flight.
  void begin_read(const void* src, size_t bytes);
  bool poll_read(void* dst_host, size_t bytes);

  // ---- the step's varying inputs (StepState, in backend memory) ----
  // batch_indices[i] = order[state->start + i].
  void select_batch(const int32_t* order, const StepState* state, int batch, int32_t* batch_indices);
  // state->start += batch, state->step += 1 and Adam's constants for the new step.
  void advance_step(StepState* state, int batch, const AdamArgs& args);

  // ---- a recorded step ----
  // begin_capture() … end_capture() records the ops issued between them instead of running them
  // (the CUDA backend: one CUDA Graph); replay() runs the recording. A backend that cannot record
  // returns false from begin_capture and its caller issues the ops every time. abort_capture()
  // drops a recording that failed half-way.
  virtual bool begin_capture() { return false; }
  virtual void end_capture() {}
  virtual void replay() {}
  virtual void abort_capture() {}

  // What the backend did that a caller cannot see from the results: recorded steps replayed, and
  // linear layers that took the fused cuBLASLt epilogue or fell back to GEMM + bias_act. Counted
  // since the backend was made; the CPU backend counts nothing (it records and fuses nothing).
  struct Counters {
    int64_t graph_replays = 0;
    int64_t fused_linear = 0, unfused_linear = 0;
  };
  virtual Counters counters() const { return {}; }

  // ---- data ----
  // x[i, 0:pixels] = images[indices[i], :] / 255 (uint8 data set in backend memory).
  void gather_images(const uint8_t* images, const int32_t* indices, int batch, int pixels, float* x,
                     int ld_x);
  // x[i, 0:classes] = one_hot(labels[indices[i]]).
  void write_one_hot(const int32_t* labels, const int32_t* indices, int batch, int classes, float* x,
                     int ld_x);

  // ---- the VAE's own ops ----
  // mu_logvar is [batch, 2·latent]: μ in columns [0, latent), log σ² in [latent, 2·latent).
  // z = μ + exp(½ log σ²) ⊙ ε with ε = normal_at(rng, batch_offset + i, j), or z = μ when !sample;
  // kl[i] = ½ Σ_j (σ² + (μ − m)² − 1 − log σ²) with m the prior mean of sample i.
  // log σ² is clamped to [kLogVarMin, kLogVarMax] before use (its gradient is zero outside).
  void reparam_kl_forward(const float* mu_logvar, const int32_t* batch_indices, int batch, int latent,
                          const PriorArgs& prior, RngPosition rng, uint32_t batch_offset, bool sample,
                          float* z, int ld_z, float* kl);
  // Given dL/dz, returns dL/d(μ, log σ²) of  L_rec + kl_weight · Σ_i kl[i]; ε is drawn again from
  // the same position and prior.chosen (from the forward) names each sample's prior mean.
  void reparam_kl_backward(const float* mu_logvar, const int32_t* batch_indices, int batch, int latent,
                           const PriorArgs& prior, RngPosition rng, uint32_t batch_offset,
                           const float* dz, int ld_dz, float kl_weight, float* d_mu_logvar);
  // Stable binary cross-entropy with logits, target x = images[indices[i]]/255:
  // loss[i] = Σ_j max(l,0) − l·x + log(1 + exp(−|l|)); dlogits = grad_scale · (sigmoid(l) − x)
  // (dlogits may be null for evaluation).
  void bce_with_logits(const float* logits, const uint8_t* images, const int32_t* indices, int batch,
                       int pixels, float grad_scale, float* loss, float* dlogits);
  // Adam (PyTorch semantics) over the flat parameter buffer.
  void adam_step(float* params, const float* grads, float* m, float* v, int64_t count,
                 const AdamArgs& args);
  // acc[0] += Σ values[i] (an accumulator in backend memory, read once per epoch).
  void accumulate_sum(const float* values, int count, double* acc);

  // ---- dense algebra ----
  // C[m,n] = alpha · op(A)[m,k] · op(B)[k,n] + beta · C, row-major, op = transpose when trans_*.
  void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
            const float* b, int ldb, float beta, float* c, int ldc);
  // y[r,c] = act(y[r,c] + bias[c]), in place.
  void bias_act_forward(float* y, int ld, const float* bias, int rows, int cols, Activation act);
  // dy ← dy ⊙ act'(y) in place (y is the activation's output), dbias[c] = Σ_r dy[r,c].
  void bias_act_backward(float* dy, int ld_dy, const float* y, int ld_y, float* dbias, int rows,
                         int cols, Activation act);
  // A linear layer's forward: y[r, 0:out] = act(x[r, :]·wᵀ + bias) for r < rows, w [out, in] dense
  // (= gemm(false, true, …) then bias_act_forward; Capability::fused_linear: one matmul).
  void linear_bias_act(int rows, int out, int in, const float* x, int ld_x, const float* w,
                       const float* bias, float* y, int ld_y, Activation act);

  // ---- convolution (ConvGeometry above) ----
  // Set-up, never inside a step: picks the algorithms for this geometry (and every smaller batch)
  // and returns the scratch bytes the three ops below need for it.
  size_t conv_prepare(const ConvGeometry& g);
  // y = conv(x, w)  (overwritten)
  void conv_forward(const ConvGeometry& g, const float* x, const float* w, float* y, void* scratch,
                    size_t scratch_bytes);
  // dx = ∂(Σ y ⊙ dy)/∂x  (overwritten): the transposed convolution of dy
  void conv_backward_data(const ConvGeometry& g, const float* dy, const float* w, float* dx,
                          void* scratch, size_t scratch_bytes);
  // dw = ∂(Σ y ⊙ dy)/∂w  (overwritten)
  void conv_backward_weights(const ConvGeometry& g, const float* x, const float* dy, float* dw,
                             void* scratch, size_t scratch_bytes);

  // ---- k-means (Lloyd; engine/backend/cpu/lloyd.h states them all) ----
  // assignment[i] = argmin_k ‖p_i − c_k‖² (lowest k on ties), distance[i] = that squared distance.
  void lloyd_assign(const float* points, int n, int dim, int ld, const float* centroids, int k,
                    int32_t* assignment, float* distance);
  // sums[k, :] = Σ_{i: a_i = k} p_i and counts[k] = |{i: a_i = k}| (overwritten, not added).
  void lloyd_accumulate(const float* points, int n, int dim, int ld, const int32_t* assignment, int k,
                        float* sums, float* counts);
  // status[0] = |{i : assignment_i ≠ previous_i}|, then previous ← assignment;
  void lloyd_count_changes(const int32_t* assignment, int32_t* previous, int n, int32_t* status);
  // centroids[c] = sums[c] / counts[c] where counts[c] > 0 (empty clusters keep theirs),
  // status[1] = the number of empty clusters.
  void lloyd_update(const float* sums, const float* counts, int k, int dim, float* centroids,
                    int32_t* status);
  // k-means++ seeding: centroids [k, dim] = k of the points, drawn with probability ∝ squared
  // distance to the nearest centre so far (the rule and its random numbers:
  // engine/backend/cpu/kmeans_plus_plus.h) — the same points on every backend for a seed. 1 <= k <= n.
  void kmeans_plus_plus(const float* points, int n, int dim, int ld, int k, uint64_t seed,
                        float* centroids);

  // ---- analysis: t-SNE (report/tsne.h) ----
  // The gradient's sums for an embedding y [n, 2] (double) and P in compressed rows (row_start
  // [n + 1], column and value [row_start[n]]), exact over all pairs (engine/backend/cpu/tsne_forces.h):
  // sum_q [n], repulsive [n, 2], attractive [n, 2], overwritten.
  void tsne_forces(const double* y, int n, const int64_t* row_start, const int32_t* column,
                   const double* value, double* sum_q, double* repulsive, double* attractive);

 protected:
  // Throws "<name()> backend: <op>: <what>" unless `condition`.
  void require(bool condition, const char* op, const char* what) const;
  void require_geometry(const ConvGeometry& g, const char* op) const;

  // The ops after their checks, in the order above.
  virtual void fill_impl(float* data, int64_t count, float value) = 0;
  virtual void begin_read_impl(const void* src, size_t bytes) = 0;
  // True once the read begun has arrived (then copied to dst_host).
  virtual bool poll_read_impl(void* dst_host, size_t bytes) = 0;
  virtual void select_batch_impl(const int32_t* order, const StepState* state, int batch,
                                 int32_t* batch_indices) = 0;
  virtual void advance_step_impl(StepState* state, int batch, const AdamArgs& args) = 0;
  virtual void gather_images_impl(const uint8_t* images, const int32_t* indices, int batch, int pixels,
                                  float* x, int ld_x) = 0;
  virtual void write_one_hot_impl(const int32_t* labels, const int32_t* indices, int batch, int classes,
                                  float* x, int ld_x) = 0;
  virtual void reparam_kl_forward_impl(const float* mu_logvar, const int32_t* batch_indices, int batch,
                                       int latent, const PriorArgs& prior, RngPosition rng,
                                       uint32_t batch_offset, bool sample, float* z, int ld_z,
                                       float* kl) = 0;
  virtual void reparam_kl_backward_impl(const float* mu_logvar, const int32_t* batch_indices, int batch,
                                        int latent, const PriorArgs& prior, RngPosition rng,
                                        uint32_t batch_offset, const float* dz, int ld_dz,
                                        float kl_weight, float* d_mu_logvar) = 0;
  virtual void bce_with_logits_impl(const float* logits, const uint8_t* images, const int32_t* indices,
                                    int batch, int pixels, float grad_scale, float* loss,
                                    float* dlogits) = 0;
  virtual void adam_step_impl(float* params, const float* grads, float* m, float* v, int64_t count,
                              const AdamArgs& args) = 0;
  virtual void accumulate_sum_impl(const float* values, int count, double* acc) = 0;
  virtual void gemm_impl(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a,
                         int lda, const float* b, int ldb, float beta, float* c, int ldc) = 0;
  virtual void bias_act_forward_impl(float* y, int ld, const float* bias, int rows, int cols,
                                     Activation act) = 0;
  virtual void bias_act_backward_impl(float* dy, int ld_dy, const float* y, int ld_y, float* dbias,
                                      int rows, int cols, Activation act) = 0;
  virtual void linear_bias_act_impl(int rows, int out, int in, const float* x, int ld_x, const float* w,
                                    const float* bias, float* y, int ld_y, Activation act) = 0;
  virtual size_t conv_prepare_impl(const ConvGeometry& g) = 0;
  virtual void conv_forward_impl(const ConvGeometry& g, const float* x, const float* w, float* y,
                                 void* scratch, size_t scratch_bytes) = 0;
  virtual void conv_backward_data_impl(const ConvGeometry& g, const float* dy, const float* w,
                                       float* dx, void* scratch, size_t scratch_bytes) = 0;
  virtual void conv_backward_weights_impl(const ConvGeometry& g, const float* x, const float* dy,
                                          float* dw, void* scratch, size_t scratch_bytes) = 0;
  virtual void lloyd_assign_impl(const float* points, int n, int dim, int ld, const float* centroids,
                                 int k, int32_t* assignment, float* distance) = 0;
  virtual void lloyd_accumulate_impl(const float* points, int n, int dim, int ld,
                                     const int32_t* assignment, int k, float* sums, float* counts) = 0;
  virtual void lloyd_count_changes_impl(const int32_t* assignment, int32_t* previous, int n,
                                        int32_t* status) = 0;
  virtual void lloyd_update_impl(const float* sums, const float* counts, int k, int dim,
                                 float* centroids, int32_t* status) = 0;
  virtual void kmeans_plus_plus_impl(const float* points, int n, int dim, int ld, int k, uint64_t seed,
                                     float* centroids) = 0;
  virtual void tsne_forces_impl(const double* y, int n, const int64_t* row_start, const int32_t* column,
                                const double* value, double* sum_q, double* repulsive,
                                double* attractive) = 0;

 private:
  size_t polled_bytes_ = 0;  // the read in flight (begin_read), 0: none
};

inline Buffer::~Buffer() {
  if (data_ && owner_) owner_->release(data_);
}

// Range of log σ² used by reparam_kl (docs/DESIGN.md decision 6): exp(±20) stays finite in float with
// room to spare; an encoder that reaches the bounds gets no gradient pushing it further.
constexpr float kLogVarMin = -20.0f;
constexpr float kLogVarMax = 20.0f;

// device = "cpu" | "cuda" | "cuda:N" | "auto" (auto: CUDA device 0 when built with CUDA and a
// device is present, else the CPU). "cuda" is "cuda:0"; N counts the devices this process sees
// (CUDA_VISIBLE_DEVICES picks and orders them).
std::unique_ptr<Backend> make_backend(const std::string& device, int threads);
// True for the names make_backend takes (the config checks device= with it); and the N of
// "cuda:N", or −1 when the name is not of that form (engine/backend/device_name.cpp).
bool is_device_name(const std::string& device);
int cuda_device_index(const std::string& device);
bool cuda_device_available();

}  // namespace cvae

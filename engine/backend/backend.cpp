// The Backend's checked entry points: each op's arguments are checked here, once for every
// backend, and then the backend's *_impl runs. A check that fails is an Error naming the backend,
// the op and the problem ("cuda backend: gemm: leading dimension smaller than the row").
#include "engine/backend/backend.h"

#include "engine/error.h"

namespace cvae {

namespace {

// What is wrong with a geometry for the convolution ops, or null.
const char* conv_geometry_problem(const ConvGeometry& g) {
  if (g.batch < 0 || g.in_channels < 1 || g.out_channels < 1 || g.height < 1 || g.width < 1)
    return "batch, channels and image size must be positive";
  if (g.kernel < 1 || g.stride < 1 || g.padding < 0 || g.padding >= g.kernel)
    return "kernel and stride must be >= 1 and 0 <= padding < kernel";
  if (g.height + 2 * g.padding < g.kernel || g.width + 2 * g.padding < g.kernel)
    return "kernel larger than the padded image";
  if (static_cast<double>(g.batch) * g.out_height() * g.out_width() * g.kernel * g.kernel *
          g.in_channels > 2147483647.0)
    return "im2col matrix larger than 2^31 entries";
  return nullptr;
}

}  // namespace

void Backend::require(bool condition, const char* op, const char* what) const {
  if (!condition) fail(name() + " backend: " + op + ": " + what);
}

void Backend::require_geometry(const ConvGeometry& g, const char* op) const {
  const char* problem = conv_geometry_problem(g);
  require(problem == nullptr, op, problem);
}

// ---- memory ----

void Backend::fill(float* data, int64_t count, float value) {
  require(count >= 0 && (data || count == 0), "fill", "negative count or no buffer");
  fill_impl(data, count, value);
}

void Backend::begin_read(const void* src, size_t bytes) {
  require(bytes > 0 && bytes <= kMaxPolledRead, "begin_read", "bytes outside [1, kMaxPolledRead]");
  begin_read_impl(src, bytes);
  polled_bytes_ = bytes;
}

bool Backend::poll_read(void* dst_host, size_t bytes) {
  if (polled_bytes_ == 0) return false;
  require(bytes == polled_bytes_, "poll_read", "size differs from begin_read's");
  if (!poll_read_impl(dst_host, bytes)) return false;
  polled_bytes_ = 0;
  return true;
}

// ---- the step's varying inputs ----

void Backend::select_batch(const int32_t* order, const StepState* state, int batch, int32_t* batch_indices) {
  require(batch >= 0 && state, "select_batch", "negative batch or no state");
  select_batch_impl(order, state, batch, batch_indices);
}

void Backend::advance_step(StepState* state, int batch, const AdamArgs& args) {
  require(batch >= 0 && state, "advance_step", "negative batch or no state");
  advance_step_impl(state, batch, args);
}

// ---- data ----

void Backend::gather_images(const uint8_t* images, const int32_t* indices, int batch, int pixels, float* x,
                            int ld_x) {
  require(batch >= 0 && pixels >= 0, "gather_images", "negative batch or pixels");
  require(ld_x >= pixels, "gather_images", "ld smaller than pixels");
  gather_images_impl(images, indices, batch, pixels, x, ld_x);
}

void Backend::write_one_hot(const int32_t* labels, const int32_t* indices, int batch, int classes, float* x,
                            int ld_x) {
  require(batch >= 0 && classes >= 1, "write_one_hot", "negative batch or no classes");
  require(ld_x >= classes, "write_one_hot", "ld smaller than classes");
  write_one_hot_impl(labels, indices, batch, classes, x, ld_x);
}

// ---- the VAE's own ops ----

void Backend::reparam_kl_forward(const float* mu_logvar, const int32_t* batch_indices, int batch, int latent,
                                 const PriorArgs& prior, RngPosition rng, uint32_t batch_offset, bool sample,
                                 float* z, int ld_z, float* kl) {
  require(batch >= 0 && latent >= 1, "reparam_kl_forward", "negative batch or latent < 1");
  require(!z || ld_z >= latent, "reparam_kl_forward", "ld_z smaller than latent");
  require(prior.kind == PriorKind::standard || (prior.means && prior.num_means > 0), "reparam_kl_forward",
          "prior needs means");
  reparam_kl_forward_impl(mu_logvar, batch_indices, batch, latent, prior, rng, batch_offset, sample, z, ld_z,
                          kl);
}

void Backend::reparam_kl_backward(const float* mu_logvar, const int32_t* batch_indices, int batch, int latent,
                                  const PriorArgs& prior, RngPosition rng, uint32_t batch_offset,
                                  const float* dz, int ld_dz, float kl_weight, float* d_mu_logvar) {
  require(batch >= 0 && latent >= 1, "reparam_kl_backward", "negative batch or latent < 1");
  require(ld_dz >= latent, "reparam_kl_backward", "ld_dz smaller than latent");
  require(prior.kind == PriorKind::standard || prior.chosen, "reparam_kl_backward",
          "prior needs the forward's chosen means");
  reparam_kl_backward_impl(mu_logvar, batch_indices, batch, latent, prior, rng, batch_offset, dz, ld_dz,
                           kl_weight, d_mu_logvar);
}

void Backend::bce_with_logits(const float* logits, const uint8_t* images, const int32_t* indices, int batch,
                              int pixels, float grad_scale, float* loss, float* dlogits) {
  require(batch >= 0 && pixels >= 1, "bce_with_logits", "batch must be >= 0 and pixels >= 1");
  bce_with_logits_impl(logits, images, indices, batch, pixels, grad_scale, loss, dlogits);
}

void Backend::adam_step(float* params, const float* grads, float* m, float* v, int64_t count,
                        const AdamArgs& args) {
  require(count >= 0, "adam_step", "negative count");
  require(args.step >= 1, "adam_step", "step must be >= 1");
  adam_step_impl(params, grads, m, v, count, args);
}

void Backend::accumulate_sum(const float* values, int count, double* acc) {
  require(count >= 0 && acc, "accumulate_sum", "negative count or no accumulator");
  accumulate_sum_impl(values, count, acc);
}

// ---- dense algebra ----

void Backend::gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                   const float* b, int ldb, float beta, float* c, int ldc) {
  require(m >= 0 && n >= 0 && k >= 0, "gemm", "negative size");
  require(lda >= (trans_a ? m : k) && ldb >= (trans_b ? k : n) && ldc >= n, "gemm",
          "leading dimension smaller than the row");
  gemm_impl(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void Backend::bias_act_forward(float* y, int ld, const float* bias, int rows, int cols, Activation act) {
  require(rows >= 0 && cols >= 0, "bias_act_forward", "negative size");
  require(ld >= cols, "bias_act_forward", "ld smaller than cols");
  bias_act_forward_impl(y, ld, bias, rows, cols, act);
}

void Backend::bias_act_backward(float* dy, int ld_dy, const float* y, int ld_y, float* dbias, int rows,
                                int cols, Activation act) {
  require(rows >= 0 && cols >= 0, "bias_act_backward", "negative size");
  require(ld_dy >= cols && ld_y >= cols, "bias_act_backward", "ld smaller than cols");
  bias_act_backward_impl(dy, ld_dy, y, ld_y, dbias, rows, cols, act);
}

void Backend::linear_bias_act(int rows, int out, int in, const float* x, int ld_x, const float* w,
                              const float* bias, float* y, int ld_y, Activation act) {
  require(rows >= 0 && out >= 0 && in >= 0, "linear_bias_act", "negative size");
  require(ld_x >= in && ld_y >= out, "linear_bias_act", "leading dimension smaller than the row");
  linear_bias_act_impl(rows, out, in, x, ld_x, w, bias, y, ld_y, act);
}

// ---- convolution ----

size_t Backend::conv_prepare(const ConvGeometry& g) {
  require_geometry(g, "conv_prepare");
  return conv_prepare_impl(g);
}

void Backend::conv_forward(const ConvGeometry& g, const float* x, const float* w, float* y, void* scratch,
                           size_t scratch_bytes) {
  require_geometry(g, "conv_forward");
  conv_forward_impl(g, x, w, y, scratch, scratch_bytes);
}

void Backend::conv_backward_data(const ConvGeometry& g, const float* dy, const float* w, float* dx,
                                 void* scratch, size_t scratch_bytes) {
  require_geometry(g, "conv_backward_data");
  conv_backward_data_impl(g, dy, w, dx, scratch, scratch_bytes);
}

void Backend::conv_backward_weights(const ConvGeometry& g, const float* x, const float* dy, float* dw,
                                    void* scratch, size_t scratch_bytes) {
  require_geometry(g, "conv_backward_weights");
  conv_backward_weights_impl(g, x, dy, dw, scratch, scratch_bytes);
}

// ---- k-means ----

void Backend::lloyd_assign(const float* points, int n, int dim, int ld, const float* centroids, int k,
                           int32_t* assignment, float* distance) {
  require(n >= 0 && dim >= 1, "lloyd_assign", "negative n or dim < 1");
  require(k >= 1 && ld >= dim, "lloyd_assign", "k < 1 or ld smaller than dim");
  lloyd_assign_impl(points, n, dim, ld, centroids, k, assignment, distance);
}

void Backend::lloyd_accumulate(const float* points, int n, int dim, int ld, const int32_t* assignment, int k,
                               float* sums, float* counts) {
  require(n >= 0 && dim >= 1, "lloyd_accumulate", "negative n or dim < 1");
  require(k >= 1 && ld >= dim, "lloyd_accumulate", "k < 1 or ld smaller than dim");
  lloyd_accumulate_impl(points, n, dim, ld, assignment, k, sums, counts);
}

void Backend::lloyd_count_changes(const int32_t* assignment, int32_t* previous, int n, int32_t* status) {
  require(n >= 0 && status, "lloyd_count_changes", "negative n or no status");
  lloyd_count_changes_impl(assignment, previous, n, status);
}

void Backend::lloyd_update(const float* sums, const float* counts, int k, int dim, float* centroids,
                           int32_t* status) {
  require(k >= 1 && dim >= 0 && status, "lloyd_update", "k < 1, negative dim or no status");
  lloyd_update_impl(sums, counts, k, dim, centroids, status);
}

void Backend::kmeans_plus_plus(const float* points, int n, int dim, int ld, int k, uint64_t seed,
                               float* centroids) {
  require(k >= 1 && k <= n && ld >= dim, "kmeans_plus_plus", "k outside [1, n] or ld smaller than dim");
  kmeans_plus_plus_impl(points, n, dim, ld, k, seed, centroids);
}

// ---- analysis ----

void Backend::tsne_forces(const double* y, int n, const int64_t* row_start, const int32_t* column,
                          const double* value, double* sum_q, double* repulsive, double* attractive) {
  require(n >= 0 && (n == 0 || (y && row_start && sum_q && repulsive && attractive)), "tsne_forces",
          "negative n or a missing buffer");
  tsne_forces_impl(y, n, row_start, column, value, sum_q, repulsive, attractive);
}

}  // namespace cvae

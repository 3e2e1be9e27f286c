#include "engine/backend/cpu/cpu_backend.h"

#include <omp.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "engine/backend/cpu/adam.h"
#include "engine/backend/cpu/bce.h"
#include "engine/backend/cpu/bias_act.h"
#include "engine/backend/cpu/conv.h"
#include "engine/backend/cpu/fill.h"
#include "engine/backend/cpu/gather.h"
#include "engine/backend/cpu/gemm.h"
#include "engine/backend/cpu/kmeans_plus_plus.h"
#include "engine/backend/cpu/lloyd.h"
#include "engine/backend/cpu/lloyd_update.h"
#include "engine/backend/cpu/reduce.h"
#include "engine/backend/cpu/reparam_kl.h"
#include "engine/backend/cpu/step_state.h"
#include "engine/backend/cpu/tsne_forces.h"
#include "engine/error.h"

namespace cvae {

namespace {

std::string cpu_model_name() {
  std::ifstream info("/proc/cpuinfo");
  std::string line;
  while (std::getline(info, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown CPU";
}

}  // namespace

CpuBackend::CpuBackend(int threads) : threads_(threads > 0 ? threads : omp_get_num_procs()) {
  omp_set_num_threads(threads_);
}

std::string CpuBackend::device_description() const {
  return cpu_model_name() + ", " + std::to_string(threads_) + " threads";
}

Buffer CpuBackend::allocate(size_t bytes) {
  // 64-byte alignment for vector loads; rounded up because aligned_alloc requires a multiple.
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded == 0) rounded = 64;
  void* data = std::aligned_alloc(64, rounded);
  if (!data) fail("cpu backend: out of memory allocating " + std::to_string(bytes) + " bytes");
  std::memset(data, 0, rounded);
  return Buffer(this, data, bytes);
}

void CpuBackend::release(void* data) { std::free(data); }
void CpuBackend::upload(void* dst, const void* src, size_t bytes) { std::memcpy(dst, src, bytes); }
void CpuBackend::download(void* dst, const void* src, size_t bytes) { std::memcpy(dst, src, bytes); }
void CpuBackend::copy(void* dst, const void* src, size_t bytes) { std::memmove(dst, src, bytes); }
// The CPU has no queue: the read is complete when begun.
void CpuBackend::begin_read_impl(const void* src, size_t bytes) {
  std::memcpy(polled_, src, bytes);
}

bool CpuBackend::poll_read_impl(void* dst_host, size_t bytes) {
  std::memcpy(dst_host, polled_, bytes);
  return true;
}

void CpuBackend::fill_impl(float* data, int64_t count, float value) { cpu::fill(data, count, value); }

void CpuBackend::gemm_impl(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                      const float* a, int lda, const float* b, int ldb, float beta, float* c,
                      int ldc) {
  if (k == 0) {  // C = beta·C, as the interface (and cuBLAS) define it; oneDNN leaves C alone
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) c[static_cast<int64_t>(i) * ldc + j] *= beta;
    return;
  }
  cpu::sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void CpuBackend::bias_act_forward_impl(float* y, int ld, const float* bias, int rows, int cols,
                                  Activation act) {
  cpu::bias_act_forward(y, ld, bias, rows, cols, act);
}

void CpuBackend::bias_act_backward_impl(float* dy, int ld_dy, const float* y, int ld_y, float* dbias,
                                   int rows, int cols, Activation act) {
  cpu::bias_act_backward(dy, ld_dy, y, ld_y, dbias, rows, cols, act);
}

void CpuBackend::select_batch_impl(const int32_t* order, const StepState* state, int batch,
                              int32_t* batch_indices) {
  cpu::select_batch(order, state, batch, batch_indices);
}

void CpuBackend::advance_step_impl(StepState* state, int batch, const AdamArgs& args) {
  cpu::advance_step(state, batch, args);
}

void CpuBackend::gather_images_impl(const uint8_t* images, const int32_t* indices, int batch,
                               int pixels, float* x, int ld_x) {
  cpu::gather_images(images, indices, batch, pixels, x, ld_x);
}

void CpuBackend::write_one_hot_impl(const int32_t* labels, const int32_t* indices, int batch,
                               int classes, float* x, int ld_x) {
  cpu::write_one_hot(labels, indices, batch, classes, x, ld_x);
}

void CpuBackend::reparam_kl_forward_impl(const float* mu_logvar, const int32_t* batch_indices,
                                    int batch, int latent, const PriorArgs& prior,
                                    RngPosition rng, uint32_t batch_offset, bool sample,
                                    float* z, int ld_z, float* kl) {
  cpu::reparam_kl_forward(mu_logvar, batch_indices, batch, latent, prior, prior.means, rng,
                          batch_offset, sample, z, ld_z, kl);
}

void CpuBackend::reparam_kl_backward_impl(const float* mu_logvar, const int32_t*, int batch,
                                     int latent, const PriorArgs& prior, RngPosition rng,
                                     uint32_t batch_offset, const float* dz, int ld_dz,
                                     float kl_weight, float* d_mu_logvar) {
  cpu::reparam_kl_backward(mu_logvar, batch, latent, prior, prior.means, rng, batch_offset, dz,
                           ld_dz, kl_weight, d_mu_logvar);
}

void CpuBackend::bce_with_logits_impl(const float* logits, const uint8_t* images,
                                 const int32_t* indices, int batch, int pixels, float grad_scale,
                                 float* loss, float* dlogits) {
  cpu::bce_with_logits(logits, images, indices, batch, pixels, grad_scale, loss, dlogits);
}

void CpuBackend::adam_step_impl(float* params, const float* grads, float* m, float* v, int64_t count,
                           const AdamArgs& args) {
  cpu::adam_step(params, grads, m, v, count, args);
}

void CpuBackend::accumulate_sum_impl(const float* values, int count, double* acc) {
  cpu::accumulate_sum(values, count, acc);
}

// The columns of im2col are the only scratch: [batch·OH·OW, K·K·C] floats.
size_t CpuBackend::conv_prepare_impl(const ConvGeometry& g) {
  return sizeof(float) * static_cast<size_t>(cpu::conv_rows(g) * cpu::conv_cols(g));
}

void CpuBackend::conv_forward_impl(const ConvGeometry& g, const float* x, const float* w, float* y,
                              void* scratch, size_t scratch_bytes) {
  float* cols = conv_scratch(g, scratch, scratch_bytes, "conv_forward");
  const int m = static_cast<int>(cpu::conv_rows(g)), k = static_cast<int>(cpu::conv_cols(g));
  if (m == 0) return;
  cpu::im2col(g, x, cols);
  cpu::sgemm(false, true, m, g.out_channels, k, 1.0f, cols, k, w, k, 0.0f, y, g.out_channels);
}

void CpuBackend::conv_backward_data_impl(const ConvGeometry& g, const float* dy, const float* w,
                                    float* dx, void* scratch, size_t scratch_bytes) {
  float* cols = conv_scratch(g, scratch, scratch_bytes, "conv_backward_data");
  const int m = static_cast<int>(cpu::conv_rows(g)), k = static_cast<int>(cpu::conv_cols(g));
  if (m == 0) return;
  cpu::sgemm(false, false, m, k, g.out_channels, 1.0f, dy, g.out_channels, w, k, 0.0f, cols, k);
  cpu::col2im(g, cols, dx);
}

void CpuBackend::conv_backward_weights_impl(const ConvGeometry& g, const float* x, const float* dy,
                                       float* dw, void* scratch, size_t scratch_bytes) {
  float* cols = conv_scratch(g, scratch, scratch_bytes, "conv_backward_weights");
  const int m = static_cast<int>(cpu::conv_rows(g)), k = static_cast<int>(cpu::conv_cols(g));
  if (m == 0) {
    fill(dw, g.w_count(), 0.0f);
    return;
  }
  cpu::im2col(g, x, cols);
  cpu::sgemm(true, false, g.out_channels, k, m, 1.0f, dy, g.out_channels, cols, k, 0.0f, dw, k);
}

float* CpuBackend::conv_scratch(const ConvGeometry& g, void* scratch, size_t scratch_bytes,
                                const char* op) {
  size_t needed = sizeof(float) * static_cast<size_t>(cpu::conv_rows(g) * cpu::conv_cols(g));
  require(scratch_bytes >= needed && (scratch || needed == 0), op,
          "scratch smaller than conv_prepare said");
  return static_cast<float*>(scratch);
}

void CpuBackend::lloyd_assign_impl(const float* points, int n, int dim, int ld,
                              const float* centroids, int k, int32_t* assignment,
                              float* distance) {
  cpu::lloyd_assign(points, n, dim, ld, centroids, k, assignment, distance);
}

void CpuBackend::lloyd_accumulate_impl(const float* points, int n, int dim, int ld,
                                  const int32_t* assignment, int k, float* sums, float* counts) {
  cpu::lloyd_accumulate(points, n, dim, ld, assignment, k, sums, counts);
}

void CpuBackend::linear_bias_act_impl(int rows, int out, int in, const float* x, int ld_x,
                                 const float* w, const float* bias, float* y, int ld_y,
                                 Activation act) {
  gemm(false, true, rows, out, in, 1.0f, x, ld_x, w, in, 0.0f, y, ld_y);
  bias_act_forward(y, ld_y, bias, rows, out, act);
}

void CpuBackend::tsne_forces_impl(const double* y, int n, const int64_t* row_start,
                             const int32_t* column, const double* value, double* sum_q,
                             double* repulsive, double* attractive) {
  cpu::tsne_forces(y, n, row_start, column, value, sum_q, repulsive, attractive);
}

void CpuBackend::lloyd_count_changes_impl(const int32_t* assignment, int32_t* previous, int n,
                                     int32_t* status) {
  cpu::lloyd_count_changes(assignment, previous, n, status);
}

void CpuBackend::lloyd_update_impl(const float* sums, const float* counts, int k, int dim,
                              float* centroids, int32_t* status) {
  cpu::lloyd_update(sums, counts, k, dim, centroids, status);
}

void CpuBackend::kmeans_plus_plus_impl(const float* points, int n, int dim, int ld, int k,
                                  uint64_t seed, float* centroids) {
  cpu::kmeans_plus_plus(points, n, dim, ld, k, seed, centroids);
}

}  // namespace cvae

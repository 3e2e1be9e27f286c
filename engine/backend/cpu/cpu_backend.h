// The reference backend: plain loops (engine/backend/cpu/*.h, templates shared with the double-precision
// tests) and oneDNN's sgemm. Threads come from OpenMP, which oneDNN also uses.
#pragma once
#include "engine/backend/backend.h"

namespace cvae {

class CpuBackend : public Backend {
 public:
  explicit CpuBackend(int threads);
  std::string name() const override { return "cpu"; }
  std::string device_description() const override;

  Buffer allocate(size_t bytes) override;
  void release(void* data) override;
  void upload(void* dst, const void* src_host, size_t bytes) override;
  void download(void* dst_host, const void* src, size_t bytes) override;
  void copy(void* dst, const void* src, size_t bytes) override;
  void synchronize() override {}

 protected:
  // The ops, checked by Backend's entries first (engine/backend/backend.h, in its order).
  void fill_impl(float* data, int64_t count, float value) override;
  void begin_read_impl(const void* src, size_t bytes) override;
  bool poll_read_impl(void* dst_host, size_t bytes) override;
  void select_batch_impl(const int32_t* order, const StepState* state, int batch,
                         int32_t* batch_indices) override;
  void advance_step_impl(StepState* state, int batch, const AdamArgs& args) override;
  void gather_images_impl(const uint8_t* images, const int32_t* indices, int batch, int pixels, float* x,
                          int ld_x) override;
  void write_one_hot_impl(const int32_t* labels, const int32_t* indices, int batch, int classes, float* x,
                          int ld_x) override;
  void reparam_kl_forward_impl(const float* mu_logvar, const int32_t* batch_indices, int batch, int latent,
                               const PriorArgs& prior, RngPosition rng, uint32_t batch_offset, bool sample,
                               float* z, int ld_z, float* kl) override;
  void reparam_kl_backward_impl(const float* mu_logvar, const int32_t* batch_indices, int batch, int latent,
                                const PriorArgs& prior, RngPosition rng, uint32_t batch_offset,
                                const float* dz, int ld_dz, float kl_weight, float* d_mu_logvar) override;
  void bce_with_logits_impl(const float* logits, const uint8_t* images, const int32_t* indices, int batch,
                            int pixels, float grad_scale, float* loss, float* dlogits) override;
  void adam_step_impl(float* params, const float* grads, float* m, float* v, int64_t count,
                      const AdamArgs& args) override;
  void accumulate_sum_impl(const float* values, int count, double* acc) override;
  void gemm_impl(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                 const float* b, int ldb, float beta, float* c, int ldc) override;
  void bias_act_forward_impl(float* y, int ld, const float* bias, int rows, int cols, Activation act) override;
  void bias_act_backward_impl(float* dy, int ld_dy, const float* y, int ld_y, float* dbias, int rows,
                              int cols, Activation act) override;
  void linear_bias_act_impl(int rows, int out, int in, const float* x, int ld_x, const float* w,
                            const float* bias, float* y, int ld_y, Activation act) override;
  size_t conv_prepare_impl(const ConvGeometry& g) override;
  void conv_forward_impl(const ConvGeometry& g, const float* x, const float* w, float* y, void* scratch,
                         size_t scratch_bytes) override;
  void conv_backward_data_impl(const ConvGeometry& g, const float* dy, const float* w, float* dx,
                               void* scratch, size_t scratch_bytes) override;
  void conv_backward_weights_impl(const ConvGeometry& g, const float* x, const float* dy, float* dw,
                                  void* scratch, size_t scratch_bytes) override;
  void lloyd_assign_impl(const float* points, int n, int dim, int ld, const float* centroids, int k,
                         int32_t* assignment, float* distance) override;
  void lloyd_accumulate_impl(const float* points, int n, int dim, int ld, const int32_t* assignment, int k,
                             float* sums, float* counts) override;
  void lloyd_count_changes_impl(const int32_t* assignment, int32_t* previous, int n,
                                int32_t* status) override;
  void lloyd_update_impl(const float* sums, const float* counts, int k, int dim, float* centroids,
                         int32_t* status) override;
  void kmeans_plus_plus_impl(const float* points, int n, int dim, int ld, int k, uint64_t seed,
                             float* centroids) override;
  void tsne_forces_impl(const double* y, int n, const int64_t* row_start, const int32_t* column,
                        const double* value, double* sum_q, double* repulsive, double* attractive) override;

 private:
  // The im2col columns in `scratch`, after checking that conv_prepare's bytes were given.
  float* conv_scratch(const ConvGeometry& g, void* scratch, size_t scratch_bytes, const char* op);
  int threads_;
  unsigned char polled_[kMaxPolledRead] = {};  // begin_read's copy (the CPU has no queue)
};

}  // namespace cvae

// Binary cross-entropy with logits, per image, and its gradient in the same pass, the target read
// straight from the uint8 data set through the batch's indices (CPU twin: engine/backend/cpu/bce.h):
//   x_ij = images[indices[i], j] · (1/255),  e = exp(−|l_ij|)
//   loss_i = Σ_j max(l_ij, 0) − l_ij x_ij + log1p(e)          (stable: never exp of a positive)
//   dlogits_ij = grad_scale · (sigmoid(l_ij) − x_ij),  sigmoid = (l ≥ 0 ? 1 : e) / (1 + e)
// One block per image; its threads stride over the pixels and the loss is a deterministic block
// sum (kernels/reductions.cuh). expf/log1pf are CUDA's accurate versions (a few ulp).
#include "kernels/kernels.h"
#include "kernels/reductions.cuh"

namespace cvae::kernels {

namespace {

constexpr int kThreads = 256;

__global__ void bce_with_logits_kernel(const float* logits, const uint8_t* images,
                                       const int32_t* indices, int pixels, float grad_scale,
                                       float* loss, float* dlogits) {
  const int i = blockIdx.x;
  const float* l = logits + int64_t(i) * pixels;
  const uint8_t* image = images + int64_t(indices[i]) * pixels;
  float* grad = dlogits ? dlogits + int64_t(i) * pixels : nullptr;
  const float inv255 = 1.0f / 255.0f;
  float sum = 0.0f;
  for (int j = threadIdx.x; j < pixels; j += kThreads) {
    const float logit = l[j];
    const float x = float(image[j]) * inv255;
    const float e = expf(-fabsf(logit));
    const float positive = logit > 0.0f ? logit : 0.0f;
    sum += positive - logit * x + log1pf(e);
    if (grad) grad[j] = grad_scale * ((logit >= 0.0f ? 1.0f : e) / (1.0f + e) - x);
  }
  sum = block_sum<kThreads>(sum);
  if (threadIdx.x == 0) loss[i] = sum;
}

}  // namespace

void bce_with_logits(const float* logits, const uint8_t* images, const int32_t* indices, int batch,
                     int pixels, float grad_scale, float* loss, float* dlogits, cudaStream_t stream) {
  if (batch <= 0) return;
  CVAE_LAUNCH(bce_with_logits_kernel, unsigned(batch), kThreads, 0, stream)(
      logits, images, indices, pixels, grad_scale, loss, dlogits);
  CVAE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace cvae::kernels

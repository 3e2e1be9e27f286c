// Reparameterisation and KL to the prior, forward and backward, one pass each
// (CPU twin: engine/backend/cpu/reparam_kl.h):
//   lv = clamp(log σ², kLogVarMin, kLogVarMax),  ε_ij = normal_at(rng, batch_offset + i, j)
//   z_ij = μ_ij + exp(½ lv_ij) · ε_ij                      (ε = 0 when !sample)
//   kl_i = ½ Σ_j (exp(lv_ij) + (μ_ij − m_ij)² − 1 − lv_ij)  m = the prior mean of sample i:
//          0 (standard), means[labels[batch_indices[i]]] (class_mean),
//          means[argmin_k ‖μ_i − means[k]‖²] (nearest_centroid, lowest k on ties)
//   backward, from g = dL/dz and w = kl_weight:
//   dμ_ij = g_ij + w (μ_ij − m_ij)
//   dlv_ij = g_ij · ½ σ_ij ε_ij + w · ½ (σ_ij² − 1),  σ = exp(½ log σ²)   when log σ² is inside the
//            clamp range, else 0 (the clamp passes no gradient)
// ε comes from the same Philox code as on the CPU (engine/rng.h), so both backends draw the same
// noise. Forward: one warp per sample, lanes over the latent dimensions; the nearest-centroid
// search gives each lane the distances to centroids lane, lane + 32, …, and then every lane scans
// them in index order with the CPU's rule (first strictly smaller wins), so ties and NaNs resolve
// exactly as on the CPU. Backward: one thread per (sample, dimension) element.
#include "kernels/kernels.h"
#include "kernels/reductions.cuh"

namespace cvae::kernels {

namespace {

constexpr int kWarpsPerBlock = 4;

__device__ __forceinline__ float clamp_logvar(float lv) {
  return lv < kLogVarMin ? kLogVarMin : (lv > kLogVarMax ? kLogVarMax : lv);
}

// Index of the centroid nearest to mu, on every lane of the warp (all lanes must call it).
__device__ int nearest_mean(const float* mu, int latent, const float* means, int num_means,
                            int lane) {
  int best = 0;
  float best_distance = 0.0f;
  for (int base = 0; base < num_means; base += 32) {
    const int k = base + lane;
    float distance = 0.0f;
    if (k < num_means) {
      const float* centre = means + int64_t(k) * latent;
      for (int j = 0; j < latent; ++j) {
        const float diff = mu[j] - centre[j];
        distance += diff * diff;
      }
    }
    const int here = num_means - base < 32 ? num_means - base : 32;
    for (int source = 0; source < here; ++source) {
      const float candidate = __shfl_sync(kFullWarp, distance, source);
      if (base + source == 0 || candidate < best_distance) {
        best = base + source;
        best_distance = candidate;
      }
    }
  }
  return best;
}

__global__ void reparam_kl_forward_kernel(const float* mu_logvar, const int32_t* batch_indices,
                                          int batch, int latent, PriorArgs prior, RngPosition rng,
                                          uint32_t batch_offset, bool sample, float* z, int ld_z,
                                          float* kl) {
  rng = resolved(rng);  // a replayed step reads its step number from memory
  const int lane = threadIdx.x % 32;
  const int i = blockIdx.x * kWarpsPerBlock + threadIdx.x / 32;
  if (i >= batch) return;  // the whole warp leaves together
  const float* mu = mu_logvar + int64_t(i) * 2 * latent;
  const float* logvar = mu + latent;

  int chosen = -1;
  if (prior.kind == PriorKind::class_mean) chosen = prior.labels[batch_indices[i]];
  else if (prior.kind == PriorKind::nearest_centroid)
    chosen = nearest_mean(mu, latent, prior.means, prior.num_means, lane);
  const float* m = chosen >= 0 ? prior.means + int64_t(chosen) * latent : nullptr;

  float sum = 0.0f;
  for (int j = lane; j < latent; j += 32) {
    const float lv = clamp_logvar(logvar[j]);
    const float offset = m ? mu[j] - m[j] : mu[j];
    sum += expf(lv) + offset * offset - 1.0f - lv;
    if (z) {
      const float eps = sample ? normal_at(rng, batch_offset + uint32_t(i), uint32_t(j)) : 0.0f;
      z[int64_t(i) * ld_z + j] = mu[j] + expf(0.5f * lv) * eps;
    }
  }
  sum = warp_sum(sum);
  if (lane == 0) {
    if (kl) kl[i] = 0.5f * sum;
    if (prior.chosen) prior.chosen[i] = chosen;
  }
}

__global__ void reparam_kl_backward_kernel(const float* mu_logvar, int batch, int latent,
                                           PriorArgs prior, RngPosition rng,
                                           uint32_t batch_offset, const float* dz, int ld_dz,
                                           float kl_weight, float* d_mu_logvar) {
  rng = resolved(rng);
  const int64_t total = int64_t(batch) * latent;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int i = int(e / latent), j = int(e - int64_t(i) * latent);
    const float mu = mu_logvar[int64_t(i) * 2 * latent + j];
    const float logvar = mu_logvar[int64_t(i) * 2 * latent + latent + j];
    const float grad_z = dz[int64_t(i) * ld_dz + j];
    const int chosen = prior.kind == PriorKind::standard ? -1 : prior.chosen[i];
    const float offset = chosen >= 0 ? mu - prior.means[int64_t(chosen) * latent + j] : mu;
    float* d_mu = d_mu_logvar + int64_t(i) * 2 * latent;
    d_mu[j] = grad_z + kl_weight * offset;
    float d_logvar = 0.0f;
    if (logvar >= kLogVarMin && logvar <= kLogVarMax) {
      const float eps = normal_at(rng, batch_offset + uint32_t(i), uint32_t(j));
      const float sigma = expf(0.5f * logvar);
      d_logvar = grad_z * 0.5f * sigma * eps + kl_weight * 0.5f * (sigma * sigma - 1.0f);
    }
    d_mu[latent + j] = d_logvar;
  }
}

}  // namespace

void reparam_kl_forward(const float* mu_logvar, const int32_t* batch_indices, int batch, int latent,
                        const PriorArgs& prior, RngPosition rng, uint32_t batch_offset, bool sample,
                        float* z, int ld_z, float* kl, cudaStream_t stream) {
  if (batch <= 0) return;
  const unsigned blocks = unsigned((batch + kWarpsPerBlock - 1) / kWarpsPerBlock);
  CVAE_LAUNCH(reparam_kl_forward_kernel, blocks, kWarpsPerBlock * 32, 0, stream)(
      mu_logvar, batch_indices, batch, latent, prior, rng, batch_offset, sample, z, ld_z, kl);
  CVAE_CUDA_CHECK(cudaGetLastError());
}

void reparam_kl_backward(const float* mu_logvar, int batch, int latent, const PriorArgs& prior,
                         RngPosition rng, uint32_t batch_offset, const float* dz, int ld_dz,
                         float kl_weight, float* d_mu_logvar, cudaStream_t stream) {
  const int64_t total = int64_t(batch) * latent;
  if (total <= 0) return;
  constexpr int kThreads = 256;
  CVAE_LAUNCH(reparam_kl_backward_kernel, grid_for(total, kThreads), kThreads, 0, stream)(
      mu_logvar, batch, latent, prior, rng, batch_offset, dz, ld_dz, kl_weight, d_mu_logvar);
  CVAE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace cvae::kernels

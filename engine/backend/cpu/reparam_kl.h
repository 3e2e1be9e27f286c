// CPU reference: reparameterisation and KL to the prior (twin of kernels/reparam_kl.cu).
//   z_j = μ_j + exp(½ lv_j)·ε_j,  lv = clamp(log σ², kLogVarMin, kLogVarMax)
//   KL(N(μ, σ²) ‖ N(m, I)) = ½ Σ_j (σ_j² + (μ_j − m_j)² − 1 − lv_j)     (closed form)
//   ∂KL/∂μ_j = μ_j − m_j,   ∂KL/∂lv_j = ½(σ_j² − 1),   ∂z_j/∂lv_j = ½ exp(½ lv_j) ε_j
// For the nearest-centroid prior, m is the centroid closest to μ; the choice is piecewise
// constant in μ, so it carries no gradient.
#pragma once
#include <cmath>
#include <cstdint>

#include "engine/backend/backend.h"

namespace cvae::cpu {

// Index of the prior mean of one sample (−1: the standard normal's zero mean).
template <class T>
int choose_prior_mean(const T* mu, int latent, const PriorArgs& prior, const T* means,
                      const int32_t* batch_indices, int i) {
  switch (prior.kind) {
    case PriorKind::standard: return -1;
    case PriorKind::class_mean: return prior.labels[batch_indices[i]];
    case PriorKind::nearest_centroid: {
      int best = 0;
      T best_distance = 0;
      for (int k = 0; k < prior.num_means; ++k) {
        const T* c = means + static_cast<int64_t>(k) * latent;
        T distance = 0;
        for (int j = 0; j < latent; ++j) distance += (mu[j] - c[j]) * (mu[j] - c[j]);
        if (k == 0 || distance < best_distance) { best = k; best_distance = distance; }
      }
      return best;
    }
  }
  return -1;
}

template <class T>
T clamp_logvar(T lv) {
  return lv < T(kLogVarMin) ? T(kLogVarMin) : (lv > T(kLogVarMax) ? T(kLogVarMax) : lv);
}

// `means` is prior.means seen as T (the float backend passes prior.means itself).
template <class T>
void reparam_kl_forward(const T* mu_logvar, const int32_t* batch_indices, int batch, int latent,
                        const PriorArgs& prior, const T* means, RngPosition rng,
                        uint32_t batch_offset, bool sample, T* z, int ld_z, T* kl) {
  rng = resolved(rng);  // a replayed step reads its step number from memory
  // Rows are independent and the noise is counter-based: any thread split gives the same bits.
#pragma omp parallel for schedule(static) if (batch >= 64)
  for (int i = 0; i < batch; ++i) {
    const T* mu = mu_logvar + static_cast<int64_t>(i) * 2 * latent;
    const T* logvar = mu + latent;
    int chosen = choose_prior_mean(mu, latent, prior, means, batch_indices, i);
    if (prior.chosen) prior.chosen[i] = chosen;
    const T* m = chosen >= 0 ? means + static_cast<int64_t>(chosen) * latent : nullptr;
    T sum = 0;
    float block[4] = {0, 0, 0, 0};  // ε for columns j … j+3: one Philox block per four columns
    for (int j = 0; j < latent; ++j) {
      if (sample && j % 4 == 0) normals_of_block(rng, batch_offset + i, j / 4, block);
      T lv = clamp_logvar(logvar[j]);
      T offset = m ? mu[j] - m[j] : mu[j];
      sum += std::exp(lv) + offset * offset - T(1) - lv;
      T eps = sample ? static_cast<T>(block[j % 4]) : T(0);
      if (z) z[static_cast<int64_t>(i) * ld_z + j] = mu[j] + std::exp(T(0.5) * lv) * eps;
    }
    if (kl) kl[i] = T(0.5) * sum;
  }
}

template <class T>
void reparam_kl_backward(const T* mu_logvar, int batch, int latent, const PriorArgs& prior,
                         const T* means, RngPosition rng, uint32_t batch_offset, const T* dz,
                         int ld_dz, T kl_weight, T* d_mu_logvar) {
  rng = resolved(rng);
#pragma omp parallel for schedule(static) if (batch >= 64)
  for (int i = 0; i < batch; ++i) {
    const T* mu = mu_logvar + static_cast<int64_t>(i) * 2 * latent;
    const T* logvar = mu + latent;
    const T* grad_z = dz + static_cast<int64_t>(i) * ld_dz;
    T* d_mu = d_mu_logvar + static_cast<int64_t>(i) * 2 * latent;
    T* d_logvar = d_mu + latent;
    int chosen = prior.kind == PriorKind::standard ? -1 : prior.chosen[i];
    const T* m = chosen >= 0 ? means + static_cast<int64_t>(chosen) * latent : nullptr;
    float block[4];
    for (int j = 0; j < latent; ++j) {
      if (j % 4 == 0) normals_of_block(rng, batch_offset + i, j / 4, block);
      T offset = m ? mu[j] - m[j] : mu[j];
      d_mu[j] = grad_z[j] + kl_weight * offset;
      bool inside = logvar[j] >= T(kLogVarMin) && logvar[j] <= T(kLogVarMax);
      if (inside) {
        T eps = static_cast<T>(block[j % 4]);
        T sigma = std::exp(T(0.5) * logvar[j]);
        d_logvar[j] = grad_z[j] * T(0.5) * sigma * eps + kl_weight * T(0.5) * (sigma * sigma - T(1));
      } else {
        d_logvar[j] = T(0);
      }
    }
  }
}

}  // namespace cvae::cpu

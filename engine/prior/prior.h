// The prior p(z) of each method, as a table of mean vectors in backend memory (identity covariance):
//   vae, beta, cvae: N(0, I)
//   lambdahot:      N(λ·e_y, I), e_y the one-hot of the label on the first `classes` of the latent dims
//   kmeans:         N(c_k, I), c_k the k-means centroid nearest to μ (centroids set by the trainer)
#pragma once
#include <vector>

#include "engine/backend/backend.h"
#include "engine/config.h"

namespace cvae {

class Prior {
 public:
  Prior(Backend& backend, const Config& config);
  PriorKind kind() const { return kind_; }
  // The argument block for the Backend's reparam_kl ops (labels of the split being run).
  PriorArgs args(const int32_t* device_labels) const;
  // Replace the mean table (kmeans centroids after a re-fit). Size must be num_means × latent.
  void set_means(const std::vector<float>& means);
  const std::vector<float>& means() const { return host_means_; }
  int num_means() const { return num_means_; }

 private:
  Backend& backend_;
  PriorKind kind_ = PriorKind::standard;
  int latent_ = 0;
  int num_means_ = 0;
  std::vector<float> host_means_;
  Buffer device_means_;
};

// λ·e_y table: row y has λ at column y, zeros elsewhere ([classes, latent]).
std::vector<float> lambda_hot_means(int classes, int latent, float lambda);

}  // namespace cvae

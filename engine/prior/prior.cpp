#include "engine/prior/prior.h"

#include "engine/error.h"

namespace cvae {

std::vector<float> lambda_hot_means(int classes, int latent, float lambda) {
  if (latent < classes) fail("lambda-hot prior: latent_dim must be at least the number of classes");
  std::vector<float> means(static_cast<size_t>(classes) * latent, 0.0f);
  for (int y = 0; y < classes; ++y) means[static_cast<size_t>(y) * latent + y] = lambda;
  return means;
}

Prior::Prior(Backend& backend, const Config& config)
    : backend_(backend), latent_(config.latent_dim) {
  if (traits(config.method).prior == PriorMeans::per_class) {
    kind_ = PriorKind::class_mean;
    num_means_ = config.classes;
    set_means(lambda_hot_means(config.classes, config.latent_dim, static_cast<float>(config.lambda)));
  } else if (traits(config.method).prior == PriorMeans::nearest_centre) {
    kind_ = PriorKind::nearest_centroid;
    num_means_ = config.clusters;
    set_means(std::vector<float>(static_cast<size_t>(num_means_) * latent_, 0.0f));
  }
}

PriorArgs Prior::args(const int32_t* device_labels) const {
  PriorArgs a;
  a.kind = kind_;
  a.means = device_means_.empty() ? nullptr : device_means_.f32();
  a.num_means = num_means_;
  a.labels = device_labels;
  return a;
}

void Prior::set_means(const std::vector<float>& means) {
  if (means.size() != static_cast<size_t>(num_means_) * latent_)
    fail("prior: mean table has the wrong size");
  host_means_ = means;
  if (device_means_.empty()) device_means_ = backend_.allocate(sizeof(float) * means.size());
  backend_.upload(device_means_.as<void>(), means.data(), sizeof(float) * means.size());
}

}  // namespace cvae

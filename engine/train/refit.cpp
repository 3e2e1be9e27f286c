#include "engine/train/refit.h"

#include <cmath>
#include <cstdio>

#include "engine/error.h"
#include "engine/prior/movable.h"

namespace cvae {

KMeansResult refit_centroids(Backend& backend, const Config& config, ModelState& state,
                             const DeviceSplit& train, bool warm) {
  const int latent = state.shape.latent;
  const int k = config.clusters;
  if (k > train.count)
    fail("config: clusters = " + std::to_string(k) + " is more than the " +
         std::to_string(train.count) + " training images");
  Buffer mu = encode_split(backend, state, train, config.eval_batch);
  std::vector<float> initial;
  if (warm) {
    initial = state.prior->means();
  } else {
    initial = kmeans_plus_plus(backend, mu.f32(), train.count, latent, 2 * latent, k, config.seed);
  }
  KMeansResult result =
      lloyd(backend, mu.f32(), train.count, latent, 2 * latent, initial, k, config.lloyd_iterations);
  state.prior->set_means(result.centroids);
  return result;
}

double movable_min_distance(const Config& config) {
  return config.min_centre_distance >= 0 ? config.min_centre_distance : config.lambda / std::sqrt(2.0);
}

void refit_class_centres(Backend& backend, const Config& config, ModelState& state,
                         const DeviceSplit& train, PriorRefit& record) {
  const int latent = state.shape.latent, k = config.classes;
  Buffer mu = encode_split(backend, state, train, config.eval_batch);
  Buffer sums = backend.allocate(sizeof(float) * k * latent);
  Buffer counts = backend.allocate(sizeof(float) * k);
  // One Lloyd accumulation whose assignment is the label.
  backend.lloyd_accumulate(mu.f32(), static_cast<int>(train.count), latent, 2 * latent,
                           train.labels.as<int32_t>(), k, sums.f32(), counts.f32());
  std::vector<float> host_sums(static_cast<size_t>(k) * latent), host_counts(k);
  backend.download(host_sums.data(), sums.as<void>(), sizeof(float) * host_sums.size());
  backend.download(host_counts.data(), counts.as<void>(), sizeof(float) * k);
  std::vector<float> centres = class_means(host_sums, host_counts, state.prior->means(), k, latent);
  auto min_distance = [&](const std::vector<float>& c) {
    std::vector<double> d = pairwise_distances(c, k, latent);
    double smallest = 1e300;
    for (int a = 0; a < k; ++a)
      for (int b = a + 1; b < k; ++b) smallest = std::min(smallest, d[static_cast<size_t>(a) * k + b]);
    return smallest;
  };
  record.centre_spread_before_anchor = centre_geometry(centres, k, latent).spread;
  record.min_centre_distance_before_anchor = min_distance(centres);
  if (config.anchor == "spread") {
    CentreGeometry target = centre_geometry(
        lambda_hot_means(k, latent, static_cast<float>(config.lambda)), k, latent);
    centres = anchor_centres(centres, k, latent, target, movable_min_distance(config));
  }
  record.centre_spread = centre_geometry(centres, k, latent).spread;
  record.min_centre_distance = min_distance(centres);
  state.prior->set_means(centres);
}

KMeansResult fit_initial_centroids(Backend& backend, const Config& config, ModelState& state,
                                   const DeviceSplit& train) {
  if (state.prior->kind() != PriorKind::nearest_centroid) return {};
  return refit_centroids(backend, config, state, train, false);
}

PriorRefit refit_prior(Backend& backend, const Config& config, ModelState& state, const DeviceSplit& train) {
  PriorRefit refit;
  switch (traits(config.method).refit) {
    case Refit::none:
      break;
    case Refit::kmeans_centres: {
      KMeansResult fit = refit_centroids(backend, config, state, train, true);
      refit.lloyd_iterations = fit.iterations;
      refit.empty_clusters = fit.empty_clusters_reseeded;
      break;
    }
    case Refit::class_centres:
      refit_class_centres(backend, config, state, train, refit);
      break;
  }
  return refit;
}

void add_refit_fields(Refit kind, const PriorRefit& r, nlohmann::ordered_json& line) {
  if (kind == Refit::kmeans_centres) {
    line["lloyd_iterations"] = r.lloyd_iterations;
    line["empty_clusters"] = r.empty_clusters;
  } else if (kind == Refit::class_centres) {
    line["centre_spread"] = r.centre_spread;
    line["min_centre_distance"] = r.min_centre_distance;
    line["centre_spread_before_anchor"] = r.centre_spread_before_anchor;
    line["min_centre_distance_before_anchor"] = r.min_centre_distance_before_anchor;
  }
}

std::string refit_summary(Refit kind, const PriorRefit& r) {
  char text[192] = "";
  if (kind == Refit::kmeans_centres)
    std::snprintf(text, sizeof text, "  k-means: %d iterations, %d empty", r.lloyd_iterations, r.empty_clusters);
  else if (kind == Refit::class_centres)
    std::snprintf(text, sizeof text, "  centres: spread %.2f, closest pair %.2f (before anchor %.2f, %.2f)",
                  r.centre_spread, r.min_centre_distance, r.centre_spread_before_anchor,
                  r.min_centre_distance_before_anchor);
  return text;
}

}  // namespace cvae

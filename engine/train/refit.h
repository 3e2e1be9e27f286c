// What the trainer re-fits between epochs, by the method's Refit kind (engine/method.h): the
// K-Means VAE's centroids (Lloyd on the training set's μ) or the movable method's class centres
// (class means of μ, then the anchor, engine/prior/movable.h). The result becomes the prior.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "engine/backend/backend.h"
#include "engine/config.h"
#include "engine/data/dataset.h"
#include "engine/nn/model_state.h"
#include "engine/prior/kmeans.h"

namespace cvae {

// What one re-fit did, for the log.
struct PriorRefit {
  int lloyd_iterations = 0, empty_clusters = 0;  // kmeans_centres
  double centre_spread = 0, min_centre_distance = 0;  // class_centres: geometry after the anchor
  double centre_spread_before_anchor = 0, min_centre_distance_before_anchor = 0;
};

// The re-fit of the config's method after an epoch (nothing for Refit::none).
PriorRefit refit_prior(Backend& backend, const Config& config, ModelState& state, const DeviceSplit& train);
// The re-fit's keys for a log.jsonl line, and its part of the epoch's progress line.
void add_refit_fields(Refit kind, const PriorRefit& refit, nlohmann::ordered_json& line);
std::string refit_summary(Refit kind, const PriorRefit& refit);

// K-Means VAE: k-means on the encoder's μ of the training set, from k-means++ (seed) when
// `warm` is false, else from the prior's current centroids; the result becomes the prior.
KMeansResult refit_centroids(Backend& backend, const Config& config, ModelState& state,
                             const DeviceSplit& train, bool warm);
// Movable centres: class means of μ over the training set, then the anchor. Fills the geometry.
void refit_class_centres(Backend& backend, const Config& config, ModelState& state,
                         const DeviceSplit& train, PriorRefit& refit);
// The movable method's anchor bound: min_centre_distance, or λ/√2 when it is −1.
double movable_min_distance(const Config& config);
// Fits the K-Means VAE's initial centroids on the untrained encoder (no-op for other methods).
KMeansResult fit_initial_centroids(Backend& backend, const Config& config, ModelState& state,
                                   const DeviceSplit& train);

}  // namespace cvae

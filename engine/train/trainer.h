// Training: epochs of shuffled mini-batches, each step forward → loss → backward → Adam, all as
// Backend calls on buffers sized once (no allocation inside a step). The K-Means VAE's centroids
// are fitted on the untrained encoder's μ before the first epoch and re-fitted after every epoch.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/config.h"
#include "engine/data/dataset.h"
#include "engine/prior/kmeans.h"
#include "engine/nn/model.h"
#include "engine/prior/prior.h"

namespace cvae {

// The model being trained: shape, flat parameters, gradients, Adam moments, prior, step count.
struct ModelState {
  ModelShape shape;
  ParamLayout layout;
  Buffer params, grads, adam_m, adam_v;
  int64_t step = 0;
  std::unique_ptr<Prior> prior;
};

ModelState make_model_state(Backend& backend, const Config& config, int pixels);
ModelShape model_shape_from(const Config& config, int pixels);
std::vector<float> download_params(Backend& backend, const ModelState& state);

struct EpochRecord {
  int epoch = 0;
  double loss = 0, bce = 0, kl = 0;  // per image, averaged over the epoch
  double seconds = 0, images_per_second = 0;
  int lloyd_iterations = 0, empty_clusters = 0;  // kmeans re-fit after this epoch
  double centre_spread = 0, min_centre_distance = 0;  // movable: geometry after the re-fit
  double centre_spread_before_anchor = 0, min_distance_before_anchor = 0;
};

struct TrainCallbacks {
  // Called every few steps: epoch (1-based), images done in the epoch, running loss per image.
  std::function<void(int epoch, int64_t done, int64_t total, double loss, double seconds)> progress;
  std::function<void(const EpochRecord&)> epoch_done;
};

// μ and log σ² of every image of a split, [count, 2·latent] in backend memory.
Buffer encode_split(Backend& backend, const ModelState& state, const DeviceSplit& split,
                    int eval_batch);

// K-Means VAE: k-means on the encoder's μ of the training set, from k-means++ (seed) when
// `warm` is false, else from the prior's current centroids; the result becomes the prior.
KMeansResult refit_centroids(Backend& backend, const Config& config, ModelState& state,
                             const DeviceSplit& train, bool warm);

// Movable centres: class means of μ over the training set, then the anchor (engine/prior/movable.h).
// Fills the geometry fields of `record`.
void refit_class_centres(Backend& backend, const Config& config, ModelState& state,
                         const DeviceSplit& train, EpochRecord& record);

// The movable method's anchor bound: min_centre_distance, or λ/√2 when it is −1.
double movable_min_distance(const Config& config);

// Fits the K-Means VAE's initial centroids on the untrained encoder (no-op for other methods).
KMeansResult fit_initial_centroids(Backend& backend, const Config& config, ModelState& state,
                                 const DeviceSplit& train);

// Trains epochs first_epoch..config.epochs (a resumed run starts after its checkpoint's epoch).
std::vector<EpochRecord> train(Backend& backend, const Config& config, ModelState& state,
                               const DeviceSplit& train, const TrainCallbacks& callbacks,
                               int first_epoch = 1);

// Fisher–Yates shuffle of 0..n−1 driven by Philox (seed, epoch): the same order on every backend.
std::vector<int32_t> shuffled_order(int64_t n, uint64_t seed, int epoch);

}  // namespace cvae

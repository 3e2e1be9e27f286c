#include "engine/train/trainer.h"

#include <chrono>
#include <cstdio>
#include <cmath>
#include <numeric>
#include <sstream>

#include "engine/error.h"
#include "engine/interrupt.h"
#include "engine/prior/movable.h"

namespace cvae {

namespace {
constexpr double kDivergenceFactor = 1000.0;
}  // namespace

ModelShape model_shape_from(const Config& config, int pixels) {
  ModelShape shape;
  shape.pixels = pixels;
  shape.classes = config.classes;
  shape.hidden = config.hidden;
  shape.latent = config.latent_dim;
  shape.conditional = traits(config.method).conditional;
  if (config.arch == "conv") {
    shape.arch = Arch::conv;
    shape.image_side = static_cast<int>(std::lround(std::sqrt(static_cast<double>(pixels))));
    shape.conv1_channels = config.conv1_channels;
    shape.conv2_channels = config.conv2_channels;
  }
  return shape;
}

ModelState make_model_state(Backend& backend, const Config& config, int pixels) {
  ModelState state;
  state.shape = model_shape_from(config, pixels);
  state.layout = make_param_layout(state.shape);
  size_t bytes = sizeof(float) * state.layout.total;
  state.params = backend.allocate(bytes);
  state.grads = backend.allocate(bytes);
  state.adam_m = backend.allocate(bytes);
  state.adam_v = backend.allocate(bytes);
  std::vector<float> initial = init_params(state.layout, config.seed);
  backend.upload(state.params.as<void>(), initial.data(), bytes);
  state.prior = std::make_unique<Prior>(backend, config);
  return state;
}

std::vector<float> download_params(Backend& backend, const ModelState& state) {
  std::vector<float> params(state.layout.total);
  backend.download(params.data(), state.params.as<void>(), sizeof(float) * params.size());
  return params;
}

std::vector<int32_t> shuffled_order(int64_t n, uint64_t seed, int epoch) {
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  RngPosition at{seed, RngStream::shuffle, static_cast<uint32_t>(epoch)};
  for (int64_t i = n - 1; i > 0; --i) {
    int64_t j = static_cast<int64_t>(uniform_at(at, static_cast<uint32_t>(i), 0) * (i + 1));
    if (j > i) j = i;
    std::swap(order[i], order[j]);
  }
  return order;
}

Buffer encode_split(Backend& backend, const ModelState& state, const DeviceSplit& split,
                    int eval_batch) {
  const int width = 2 * state.shape.latent;
  Buffer all = backend.allocate(sizeof(float) * split.count * width);
  Workspace ws = make_workspace(backend, state.shape, eval_batch, false);
  Buffer indices = identity_indices(backend, split.count);
  for (int64_t start = 0; start < split.count; start += eval_batch) {
    int batch = static_cast<int>(std::min<int64_t>(eval_batch, split.count - start));
    BatchInput input{split.images.as<uint8_t>(), split.labels.as<int32_t>(),
                     indices.as<int32_t>() + start, batch};
    model_encode(backend, state.shape, state.layout, state.params.f32(), ws, input);
    backend.copy(all.f32() + start * width, ws.mu_logvar.f32(), sizeof(float) * batch * width);
  }
  return all;
}

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
                         const DeviceSplit& train, EpochRecord& record) {
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
  record.min_distance_before_anchor = min_distance(centres);
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

std::vector<EpochRecord> train(Backend& backend, const Config& config, ModelState& state,
                               const DeviceSplit& train, const TrainCallbacks& callbacks,
                               int first_epoch) {
  using clock = std::chrono::steady_clock;
  const int capacity = static_cast<int>(std::min<int64_t>(config.batch_size, train.count));
  // Every buffer of the step, made once.
  Workspace ws = make_workspace(backend, state.shape, capacity, true);
  Buffer order = backend.allocate(sizeof(int32_t) * train.count);
  Buffer batch_indices = backend.allocate(sizeof(int32_t) * capacity);
  Buffer step_state = backend.allocate(sizeof(StepState));
  Buffer sums = backend.allocate(2 * sizeof(double));  // Σ bce, Σ kl over the epoch
  const PriorArgs prior = state.prior->args(train.labels.as<int32_t>());
  const float kl_weight = static_cast<float>(config.beta);
  AdamArgs adam;
  adam.lr = static_cast<float>(config.lr);
  // The step reads its varying inputs (batch rows, step number, Adam's constants) from
  // step_state, so the same ops — on the GPU one recorded CUDA Graph — serve every full batch.
  StepState* device_state = step_state.as<StepState>();
  AdamArgs adam_in_memory = adam;
  adam_in_memory.constants_in_memory = &device_state->adam_step_size;
  const RngPosition noise{config.seed, RngStream::train_noise, 0, &device_state->step};
  const BatchInput input_template{train.images.as<uint8_t>(), train.labels.as<int32_t>(),
                                  batch_indices.as<int32_t>(), 0};
  auto issue_step = [&](int batch) {
    backend.select_batch(order.as<int32_t>(), device_state, batch, batch_indices.as<int32_t>());
    BatchInput input = input_template;
    input.batch = batch;
    model_forward(backend, state.shape, state.layout, state.params.f32(), ws, input, prior, noise,
                  0, true, true);
    model_backward(backend, state.shape, state.layout, state.params.f32(), state.grads.f32(), ws,
                   input, prior, noise, 0, kl_weight);
    backend.adam_step(state.params.f32(), state.grads.f32(), state.adam_m.f32(),
                      state.adam_v.f32(), state.layout.total, adam_in_memory);
    backend.accumulate_sum(ws.bce.f32(), batch, sums.as<double>());
    backend.accumulate_sum(ws.kl.f32(), batch, sums.as<double>() + 1);
    backend.advance_step(device_state, batch, adam);
  };
  // Recording waits for one full batch run op by op (the warm-up): every cuBLAS/cuBLASLt plan,
  // heuristic query and cuDNN first use happens then, outside the capture, where a library may
  // allocate, synchronise or answer differently than it would while being recorded.
  bool recorded = false, record = config.cuda_graph;
  int64_t eager_full_steps = 0;

  std::vector<EpochRecord> records;
  double first_loss = 0;
  for (int epoch = first_epoch; epoch <= config.epochs; ++epoch) {
    auto started = clock::now();
    std::vector<int32_t> host_order = shuffled_order(train.count, config.seed, epoch);
    backend.upload(order.as<void>(), host_order.data(), sizeof(int32_t) * train.count);
    StepState first = step_state_at(static_cast<uint32_t>(state.step + 1), 0, adam);
    backend.upload(step_state.as<void>(), &first, sizeof first);
    double zero[2] = {0, 0};
    backend.upload(sums.as<void>(), zero, sizeof zero);
    auto last_report = clock::now();
    int64_t read_done = 0;  // images done when the read in flight was begun (0: none in flight)

    for (int64_t start = 0; start < train.count; start += capacity) {
      int batch = static_cast<int>(std::min<int64_t>(capacity, train.count - start));
      ++state.step;
      if (batch == capacity && recorded) {
        backend.replay();
      } else if (batch == capacity && record && eager_full_steps > 0) {
        // The second full batch is recorded (where the backend can: the CUDA backend), then run.
        try {
          if (backend.begin_capture()) {
            issue_step(batch);
            backend.end_capture();
            recorded = true;
            backend.replay();
          } else {
            record = false;
            issue_step(batch);
          }
        } catch (const Error& error) {
          backend.abort_capture();
          record = false;
          std::fprintf(stderr, "clustervae: recording the step as a CUDA Graph failed (%s); "
                               "running its ops one by one\n", error.what());
          issue_step(batch);
        }
      } else {
        issue_step(batch);  // the warm-up, an epoch's smaller last batch, or recording is off
        if (batch == capacity) ++eager_full_steps;
      }

      if (stop_requested())
        throw Interrupted("interrupted at epoch " + std::to_string(epoch) + ", step " +
                          std::to_string(state.step));
      bool last = start + capacity >= train.count;
      double since = std::chrono::duration<double>(clock::now() - last_report).count();
      bool check = last || since > 0.25 || first_loss == 0 || state.step % 64 == 0;
      // The only host reads inside an epoch (after the first step, then every 64 steps or quarter
      // second): the progress line and the divergence guard. They never wait for the device:
      // begin_read queues a copy of the sums behind the steps so far, and the result is taken when
      // poll_read finds it arrived (on the CPU at once; on a GPU a few steps later) — so the host
      // keeps the device's queue full.
      if (check && read_done == 0) {
        backend.begin_read(sums.as<void>(), 2 * sizeof(double));
        read_done = start + batch;
      }
      double host_sums[2];
      if (read_done > 0 && backend.poll_read(host_sums, sizeof host_sums)) {
        const int64_t done = read_done;
        read_done = 0;
        double loss = (host_sums[0] + kl_weight * host_sums[1]) / done;
        // Divergence: a non-finite loss, or a loss a thousand times the first one reported
        // (the untrained model's): the run is going nowhere useful, so it stops with a message.
        if (first_loss == 0 && std::isfinite(loss)) first_loss = loss;
        if (!std::isfinite(loss) || std::fabs(loss) > kDivergenceFactor * std::fabs(first_loss)) {
          std::ostringstream message;
          message << "training diverged: loss per image is " << loss << " at epoch " << epoch
                  << ", step " << state.step << " (bce " << host_sums[0] / done << ", kl "
                  << host_sums[1] / done << "; first reported loss " << first_loss
                  << "); try a smaller lr";
          throw NumericError(message.str());
        }
        if (callbacks.progress)
          callbacks.progress(epoch, done, train.count, loss,
                             std::chrono::duration<double>(clock::now() - started).count());
        last_report = clock::now();
      }
    }
    double host_sums[2];
    backend.download(host_sums, sums.as<void>(), sizeof host_sums);
    EpochRecord record;
    record.epoch = epoch;
    record.bce = host_sums[0] / train.count;
    record.kl = host_sums[1] / train.count;
    record.loss = record.bce + kl_weight * record.kl;
    // images/s counts the training steps; the epoch's seconds include the K-Means re-fit.
    record.images_per_second =
        train.count / std::chrono::duration<double>(clock::now() - started).count();
    if (state.prior->kind() == PriorKind::nearest_centroid) {
      KMeansResult refit = refit_centroids(backend, config, state, train, true);
      record.lloyd_iterations = refit.iterations;
      record.empty_clusters = refit.empty_clusters_reseeded;
    }
    if (traits(config.method).refit == Refit::class_centres) refit_class_centres(backend, config, state, train, record);
    record.seconds = std::chrono::duration<double>(clock::now() - started).count();
    records.push_back(record);
    if (callbacks.epoch_done) callbacks.epoch_done(record);
  }
  return records;
}

}  // namespace cvae

#include "engine/experiment.h"

#include <chrono>
#include <cstdio>

#include "engine/backend.h"
#include "engine/data/dataset.h"
#include "engine/error.h"
#include "engine/evaluate.h"
#include "engine/io/files.h"
#include "engine/io/safetensors.h"
#include "engine/progress.h"

namespace cvae {

namespace {

NamedTensor slice_rows(const std::string& name, const std::vector<float>& params,
                       const Linear& layer, int first_row, int rows, bool bias) {
  NamedTensor t;
  t.name = name;
  if (bias) {
    t.shape = {rows};
    t.values.assign(params.begin() + layer.bias_offset + first_row,
                    params.begin() + layer.bias_offset + first_row + rows);
  } else {
    t.shape = {rows, layer.in};
    auto begin = params.begin() + layer.weight_offset + static_cast<int64_t>(first_row) * layer.in;
    t.values.assign(begin, begin + static_cast<int64_t>(rows) * layer.in);
  }
  return t;
}

}  // namespace

std::string encode_checkpoint(const ModelState& state, const std::vector<float>& params,
                              const Config& config, int epoch) {
  const ParamLayout& L = state.layout;
  const int latent = state.shape.latent;
  std::vector<NamedTensor> tensors = {
      slice_rows("fc1.weight", params, L.fc1, 0, L.fc1.out, false),
      slice_rows("fc1.bias", params, L.fc1, 0, L.fc1.out, true),
      slice_rows("fc21.weight", params, L.fc2, 0, latent, false),
      slice_rows("fc21.bias", params, L.fc2, 0, latent, true),
      slice_rows("fc22.weight", params, L.fc2, latent, latent, false),
      slice_rows("fc22.bias", params, L.fc2, latent, latent, true),
      slice_rows("fc3.weight", params, L.fc3, 0, L.fc3.out, false),
      slice_rows("fc3.bias", params, L.fc3, 0, L.fc3.out, true),
      slice_rows("fc4.weight", params, L.fc4, 0, L.fc4.out, false),
      slice_rows("fc4.bias", params, L.fc4, 0, L.fc4.out, true),
  };
  if (state.prior->num_means() > 0)
    tensors.push_back({"prior.means", {state.prior->num_means(), latent}, state.prior->means()});
  std::map<std::string, std::string> metadata = {
      {"format", "clustervae"},
      {"config", to_json(config).dump()},
      {"epoch", std::to_string(epoch)},
      {"step", std::to_string(state.step)},
  };
  return encode_safetensors(tensors, metadata);
}

ExperimentResult run_experiment(const Config& config, const std::string& progress_label) {
  validate(config);
  HostDataset data = load_dataset(config);
  if (config.method == "kmeans" && config.clusters > data.train.images.count)
    fail("config: clusters = " + std::to_string(config.clusters) + " is more than the " +
         std::to_string(data.train.images.count) + " training images");
  std::unique_ptr<Backend> backend = make_backend(config.device, config.threads);

  ExperimentResult result;
  result.run_dir = make_run_folder(config.out, config.name);
  const std::string dir = result.run_dir;
  nlohmann::json resolved = to_json(config);
  write_file_atomic(dir + "/config.json", resolved.dump(2) + "\n");

  std::string label = progress_label.empty() ? config.name : progress_label;
  Progress progress(config.progress, config.epochs, label);
  progress.epoch_line("training " + config.method + " on " + config.dataset + " (" +
                      std::to_string(data.train.images.count) + " images) with " +
                      backend->name() + ": " + backend->device_description() + " -> " + dir);

  DeviceSplit train = upload_split(*backend, data.train);
  DeviceSplit test = upload_split(*backend, data.test);
  ModelState state = make_model_state(*backend, config, data.pixels());
  KMeansResult initial = fit_initial_centroids(*backend, config, state, train);
  if (state.prior->kind() == PriorKind::nearest_centroid)
    progress.epoch_line("initial k-means on the untrained encoder: " +
                        std::to_string(initial.iterations) + " Lloyd iterations, " +
                        std::to_string(initial.empty_clusters_reseeded) + " empty clusters re-seeded");

  const std::string checkpoint = dir + "/weights.safetensors";
  int last_good_epoch = 0;
  TrainCallbacks callbacks;
  callbacks.progress = [&](int epoch, int64_t done, int64_t total, double loss, double seconds) {
    progress.update(epoch, done, total, loss, seconds);
  };
  callbacks.epoch_done = [&](const EpochRecord& r) {
    nlohmann::ordered_json line;
    line["epoch"] = r.epoch;
    line["loss"] = r.loss;
    line["bce"] = r.bce;
    line["kl"] = r.kl;
    line["seconds"] = r.seconds;
    line["images_per_second"] = r.images_per_second;
    if (state.prior->kind() == PriorKind::nearest_centroid) {
      line["lloyd_iterations"] = r.lloyd_iterations;
      line["empty_clusters"] = r.empty_clusters;
    }
    append_line(dir + "/log.jsonl", line.dump());
    write_file_atomic(checkpoint, encode_checkpoint(state, download_params(*backend, state), config, r.epoch));
    last_good_epoch = r.epoch;
    char text[256];
    std::snprintf(text, sizeof text, "epoch %d/%d  loss %.2f  (bce %.2f, kl %.2f)  %.2fs  %.0f img/s",
                  r.epoch, config.epochs, r.loss, r.bce, r.kl, r.seconds, r.images_per_second);
    std::string extra;
    if (state.prior->kind() == PriorKind::nearest_centroid)
      extra = "  k-means: " + std::to_string(r.lloyd_iterations) + " iterations, " +
              std::to_string(r.empty_clusters) + " empty";
    progress.epoch_line(text + extra);
  };
  try {
    result.epochs = cvae::train(*backend, config, state, train, callbacks);
  } catch (const NumericError& e) {
    std::string where = last_good_epoch > 0
                            ? "; last good checkpoint: " + checkpoint + " (epoch " +
                                  std::to_string(last_good_epoch) + ")"
                            : "; no checkpoint was written";
    throw NumericError(std::string(e.what()) + where);
  }

  nlohmann::ordered_json metrics;
  if (config.evaluate) {
    auto started = std::chrono::steady_clock::now();
    Metrics m = evaluate(*backend, config, state, train, test, data.train.labels.labels,
                         data.test.labels.labels);
    metrics = metrics_json(m);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    metrics["evaluation_seconds"] = seconds;
  }
  std::vector<double> epoch_seconds;
  double images_per_second = 0;
  for (const EpochRecord& r : result.epochs) {
    epoch_seconds.push_back(r.seconds);
    images_per_second += r.images_per_second / result.epochs.size();
  }
  metrics["epoch_seconds"] = epoch_seconds;
  metrics["images_per_second"] = images_per_second;
  metrics["final_train_loss"] = result.epochs.back().loss;
  metrics["method"] = config.method;
  metrics["dataset"] = config.dataset;
  metrics["seed"] = config.seed;
  metrics["backend"] = backend->name();
  metrics["device"] = backend->device_description();
  write_file_atomic(dir + "/metrics.json", metrics.dump(2) + "\n");
  result.metrics = metrics;
  return result;
}

}  // namespace cvae

#include "engine/train/experiment.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>

#include "engine/backend/backend.h"
#include "engine/build_info.h"
#include "engine/data/dataset.h"
#include "engine/error.h"
#include "engine/eval/evaluate.h"
#include "engine/io/files.h"
#include "engine/io/heatmap_svg.h"
#include "engine/io/loaded_libraries.h"
#include "engine/io/safetensors.h"
#include "engine/prior/movable.h"
#include "engine/train/checkpoint.h"
#include "engine/train/progress.h"

namespace cvae {

namespace {

// centres.json (the prior's class means and their pairwise distances) and a heat map of the
// distances, so a user can see which classes the model put close together.
void write_centres(const std::string& dir, const Config& config, const ModelState& state) {
  const int k = state.prior->num_means(), latent = state.shape.latent;
  const std::vector<float>& centres = state.prior->means();
  std::vector<double> distances = pairwise_distances(centres, k, latent);
  std::vector<std::string> names = class_names(config.dataset, k);
  nlohmann::ordered_json j;
  j["method"] = method_name(config.method);
  j["classes"] = names;
  j["centres"] = nlohmann::ordered_json::array();
  j["distances"] = nlohmann::ordered_json::array();
  for (int a = 0; a < k; ++a) {
    j["centres"].push_back(std::vector<float>(centres.begin() + a * latent, centres.begin() + (a + 1) * latent));
    j["distances"].push_back(std::vector<double>(distances.begin() + a * k, distances.begin() + (a + 1) * k));
  }
  nlohmann::ordered_json closest = nlohmann::ordered_json::array();
  std::vector<std::pair<double, std::pair<int, int>>> pairs;
  for (int a = 0; a < k; ++a)
    for (int b = a + 1; b < k; ++b) pairs.push_back({distances[a * k + b], {a, b}});
  std::sort(pairs.begin(), pairs.end());
  for (size_t p = 0; p < pairs.size() && p < 5; ++p)
    closest.push_back({{"classes", {names[pairs[p].second.first], names[pairs[p].second.second]}},
                       {"distance", pairs[p].first}});
  j["closest_pairs"] = closest;
  write_file_atomic(dir + "/centres.json", j.dump(2) + "\n");
  write_file_atomic(dir + "/centre_distances.svg",
                    heatmap_svg(distances, k, names, "Distances between class centres (" + method_name(config.method) +
                                                         ", " + config.dataset + ")"));
}

// metrics.json of a run folder as it is, or an empty object where there is none (or it is not a
// JSON object: a resumed run then writes a new one).
nlohmann::ordered_json previous_metrics(const std::string& dir) {
  if (!path_exists(dir + "/metrics.json")) return nlohmann::ordered_json::object();
  nlohmann::ordered_json previous =
      nlohmann::ordered_json::parse(read_file(dir + "/metrics.json"), nullptr, false);
  return previous.is_object() ? previous : nlohmann::ordered_json::object();
}

// The shared body of a new run and a resumed one.
ExperimentResult run_in_folder(const Config& config, const std::string& progress_label,
                               const std::string& resume_dir);

}  // namespace

ExperimentResult run_experiment(const Config& config, const std::string& progress_label) {
  return run_in_folder(config, progress_label, "");
}

ExperimentResult resume_experiment(const std::string& run_dir, const std::vector<std::string>& overrides) {
  for (const std::string& o : overrides) {
    std::string key = o.substr(0, o.find('='));
    // Only what does not change the model or its data can differ in a continued run.
    if (key != "epochs" && key != "device" && key != "threads" && key != "progress" &&
        key != "evaluate" && key != "eval_batch" && key != "cuda_graph")
      fail("argument '" + o + "': a resumed run can change only epochs, device, threads, progress, evaluate, eval_batch, cuda_graph");
  }
  // Everything is checked before anything in the folder is touched: a refused resume changes nothing.
  if (!is_folder(run_dir))
    fail("resume=" + run_dir + ": no such run folder");
  const std::string weights = run_dir + "/weights.safetensors";
  if (!path_exists(run_dir + "/config.json"))
    fail("resume=" + run_dir + ": not a run folder (no config.json)");
  if (!path_exists(weights))
    fail("resume=" + run_dir + ": no checkpoint yet (no weights.safetensors): the run stopped before its first epoch ended; start it again");
  Config config = load_config_file(run_dir + "/config.json");
  bool epochs_given = false;
  for (const std::string& o : overrides) {
    apply_override(config, o);
    epochs_given = epochs_given || o.rfind("epochs=", 0) == 0;
  }
  const int done = checkpoint_epoch(weights);
  if (config.epochs <= done) {
    if (!epochs_given)
      fail("resume=" + run_dir + ": the run has finished its " + std::to_string(done) +
           " epochs; pass epochs=N with N > " + std::to_string(done) + " to train it further");
    fail("resume=" + run_dir + ": epochs=" + std::to_string(config.epochs) +
         " is not more than the " + std::to_string(done) +
         " epochs its checkpoint has; pass epochs=N with N > " + std::to_string(done));
  }
  return run_in_folder(config, "", run_dir);
}

namespace {

ExperimentResult run_in_folder(const Config& config, const std::string& progress_label,
                               const std::string& resume_dir) {
  validate(config);
  HostDataset data = load_dataset(config);
  if (traits(config.method).prior == PriorMeans::nearest_centre && config.clusters > data.train.images.count)
    fail("config: clusters = " + std::to_string(config.clusters) + " is more than the " +
         std::to_string(data.train.images.count) + " training images");
  std::unique_ptr<Backend> backend = make_backend(config.device, config.threads);

  ExperimentResult result;
  const bool resuming = !resume_dir.empty();
  result.run_dir = resuming ? resume_dir : make_run_folder(config.out, config.name);
  const std::string dir = result.run_dir;
  nlohmann::json resolved = to_json(config);
  write_file_atomic(dir + "/config.json", resolved.dump(2) + "\n");

  std::string label = progress_label.empty() ? config.name : progress_label;
  Progress progress(config.progress, config.epochs, label);
  progress.epoch_line("training " + method_name(config.method) + " on " + config.dataset + " (" +
                      std::to_string(data.train.images.count) + " images) with " +
                      backend->name() + ": " + backend->device_description() + " -> " + dir);

  DeviceSplit train = upload_split(*backend, data.train);
  DeviceSplit test = upload_split(*backend, data.test);
  ModelState state = make_model_state(*backend, config, data.pixels());
  const std::string checkpoint = dir + "/weights.safetensors";
  int last_good_epoch = 0;
  if (resuming) {
    last_good_epoch = restore_checkpoint(*backend, state, checkpoint);
    progress.epoch_line("resuming after epoch " + std::to_string(last_good_epoch) + " (step " +
                        std::to_string(state.step) + ") from " + checkpoint);
  } else {
    KMeansResult initial = fit_initial_centroids(*backend, config, state, train);
    if (state.prior->kind() == PriorKind::nearest_centroid)
      progress.epoch_line("initial k-means on the untrained encoder: " +
                          std::to_string(initial.iterations) + " Lloyd iterations, " +
                          std::to_string(initial.empty_clusters_reseeded) + " empty clusters re-seeded");
  }

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
    add_refit_fields(traits(config.method).refit, r.refit, line);
    append_line(dir + "/log.jsonl", line.dump());
    write_file_atomic(checkpoint, encode_checkpoint(*backend, state, config, r.epoch));
    last_good_epoch = r.epoch;
    char text[256];
    std::snprintf(text, sizeof text, "epoch %d/%d  loss %.2f  (bce %.2f, kl %.2f)  %.2fs  %.0f img/s",
                  r.epoch, config.epochs, r.loss, r.bce, r.kl, r.seconds, r.images_per_second);
    const std::string extra = refit_summary(traits(config.method).refit, r.refit);
    progress.epoch_line(text + extra);
  };
  try {
    result.epochs = cvae::train(*backend, config, state, train, callbacks, last_good_epoch + 1);
  } catch (const Interrupted& e) {
    throw Interrupted(e.what(), dir, last_good_epoch);
  } catch (const NumericError& e) {
    std::string where = last_good_epoch > 0
                            ? "; last good checkpoint: " + checkpoint + " (epoch " +
                                  std::to_string(last_good_epoch) + ")"
                            : "; no checkpoint was written";
    throw NumericError(std::string(e.what()) + where);
  }

  if (traits(config.method).prior == PriorMeans::per_class) write_centres(dir, config, state);

  // A resumed run keeps what it does not recompute (with evaluate=false: the earlier evaluation,
  // whose epoch evaluated_after_epoch names).
  nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
  if (resuming) metrics = previous_metrics(dir);
  if (config.evaluate) {
    auto started = std::chrono::steady_clock::now();
    Metrics m = evaluate(*backend, config, state, train, test, data.train.labels.labels,
                         data.test.labels.labels);
    const nlohmann::ordered_json evaluated = metrics_json(m);
    for (auto it = evaluated.begin(); it != evaluated.end(); ++it) metrics[it.key()] = it.value();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    metrics["evaluation_seconds"] = seconds;
    metrics["evaluated_after_epoch"] = config.epochs;
  }
  // Speed and the last loss from the whole log, so a resumed run reports all its epochs.
  std::vector<double> epoch_seconds;
  double images_per_second = 0, final_loss = 0;
  std::istringstream log(read_file(dir + "/log.jsonl"));
  for (std::string line; std::getline(log, line);) {
    nlohmann::json entry = nlohmann::json::parse(line);
    epoch_seconds.push_back(entry["seconds"].get<double>());
    images_per_second += entry["images_per_second"].get<double>();
    final_loss = entry["loss"].get<double>();
  }
  metrics["epoch_seconds"] = epoch_seconds;
  metrics["images_per_second"] = epoch_seconds.empty() ? 0.0 : images_per_second / epoch_seconds.size();
  metrics["final_train_loss"] = final_loss;
  metrics["method"] = method_name(config.method);
  metrics["dataset"] = config.dataset;
  metrics["seed"] = config.seed;
  metrics["commit"] = build_commit();
  metrics["backend"] = backend->name();
  metrics["device"] = backend->device_description();
  // Whether the step ran as a recorded CUDA Graph (replays > 0) or op by op, and how many linear
  // layers took the fused cuBLASLt epilogue: a GPU run that silently fell back shows here.
  const Backend::Counters counters = backend->counters();
  metrics["cuda_graph"] = config.cuda_graph;
  metrics["cuda_graph_replays"] = counters.graph_replays;
  metrics["linear_fused"] = counters.fused_linear;
  metrics["linear_unfused"] = counters.unfused_linear;
  metrics["loaded_libraries"] = loaded_compute_libraries();
  write_file_atomic(dir + "/metrics.json", metrics.dump(2) + "\n");
  result.metrics = metrics;
  return result;
}

}  // namespace

}  // namespace cvae

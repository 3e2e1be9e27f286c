#include "report/run_report.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "engine/backend/backend.h"
#include "engine/error.h"
#include "engine/io/files.h"
#include "engine/train/checkpoint.h"
#include "report/metric_labels.h"
#include "report/sampling.h"
#include "report/tsne.h"

namespace cvae {

namespace {

// What a run's steps below share: the run as loaded, its data set and where progress goes.
struct RunInputs {
  Backend& backend;
  const LoadedRun& run;
  const HostDataset& data;
  const ReportOptions& options;
  void say(const std::string& line) const {
    if (options.log) options.log(line);
  }
  int image_rows() const { return data.test.images.rows; }
  int image_cols() const { return data.test.images.cols; }
  int columns() const { return std::max(1, options.grid_columns); }
};

std::string dataset_key(const Config& config) {
  DatasetFiles f = resolve_dataset_files(config);
  return f.train_images + "\n" + f.train_labels + "\n" + f.test_images + "\n" + f.test_labels + "\n" +
         std::to_string(config.classes);
}

std::vector<EpochLog> read_epoch_log(const std::string& path) {
  std::vector<EpochLog> out;
  if (!is_file(path)) return out;
  std::istringstream lines(read_file(path));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    // A line that does not parse (a run still writing its log) is left out of the curves.
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    EpochLog e;
    e.epoch = j.value("epoch", 0);
    e.loss = j.value("loss", std::nan(""));
    e.bce = j.value("bce", std::nan(""));
    e.kl = j.value("kl", std::nan(""));
    out.push_back(e);
  }
  return out;
}

// Two of each class from the test split (the first ones), in class order: the reconstruction grid.
std::vector<int64_t> reconstruction_rows(const LabelledImages& test, int classes, int per_class) {
  std::vector<int64_t> rows;
  for (int round = 0; round < per_class; ++round)
    for (int c = 0; c < classes; ++c) {
      int seen = 0;
      for (int64_t i = 0; i < test.labels.count; ++i)
        if (test.labels.labels[i] == c && seen++ == round) {
          rows.push_back(i);
          break;
        }
    }
  return rows;
}

// The run's own files: config and weights (already loaded), the epoch log and metrics.json.
void read_run_files(RunReport& r, const std::string& run_dir, const LoadedRun& run) {
  r.run_dir = strip_slashes(run_dir);
  r.config = run.config;
  r.epochs_done = run.epoch;
  r.title = method_title(r.config.method) + " · " + dataset_title(r.config.dataset) + " · seed " +
            std::to_string(r.config.seed) + " — " + base_name(run_dir);
  r.class_names = class_names(r.config.dataset, r.config.classes);
  r.epochs = read_epoch_log(r.run_dir + "/log.jsonl");
  const std::string metrics_path = r.run_dir + "/metrics.json";
  r.metrics_file = is_file(metrics_path);
  if (r.metrics_file) {
    r.metrics = nlohmann::ordered_json::parse(read_file(metrics_path), nullptr, false);
    if (r.metrics.is_discarded() || !r.metrics.is_object()) fail(metrics_path + ": not a JSON object");
  }
}

// t-SNE of μ of the first tsne_points test images, and its scatter plot.
void add_tsne(RunReport& r, const RunInputs& in) {
  const ModelState& state = in.run.state;
  const LabelledImages& test_images = in.data.test;
  const int64_t n = in.options.tsne_points > 0 ? std::min<int64_t>(in.options.tsne_points, test_images.images.count)
                                               : test_images.images.count;
  DeviceSplit test = upload_split(in.backend, test_images);
  Buffer mu = encode_split(in.backend, state, test, r.config.eval_batch);
  const int width = 2 * state.shape.latent;
  std::vector<float> host(static_cast<size_t>(test.count) * width);
  in.backend.download(host.data(), mu.as<void>(), sizeof(float) * host.size());
  // On a GPU the gradient is exact (all pairs, report/tsne.h); on the CPU, Barnes–Hut.
  const bool on_gpu = in.backend.supports(Capability::all_pairs_tsne);
  in.say("t-SNE of " + std::to_string(n) + " test points (" + std::to_string(state.shape.latent) +
         " dimensions; " + (on_gpu ? "exact gradient on the GPU" : "Barnes–Hut on the CPU") + ")…");
  TsneOptions t;
  if (on_gpu) t.backend = &in.backend;
  r.tsne_method = on_gpu ? "exact, GPU" : "Barnes–Hut";
  t.perplexity = in.options.tsne_perplexity;
  t.iterations = in.options.tsne_iterations;
  t.exaggeration_iterations = std::min(250, in.options.tsne_iterations / 4);
  t.seed = in.options.seed;
  TsneResult result = tsne(host.data(), n, state.shape.latent, width, t);
  r.tsne_xy = std::move(result.embedding);
  r.tsne_seconds = result.seconds;
  r.tsne_kl = result.kl_divergence;
  r.tsne_labels.assign(test_images.labels.labels.begin(), test_images.labels.labels.begin() + n);
  in.say("t-SNE done in " + fixed_text(r.tsne_seconds, 1) + " s (KL " + fixed_text(r.tsne_kl, 3) + ")");
  ScatterSpec spec = tsne_spec(r, in.options.seed);
  r.tsne_png = scatter_raster(spec);
  r.tsne_svg = scatter_svg(spec);
}

// The classifier that judges samples, trained (or read from its cache) once per data set.
std::shared_ptr<ImageClassifier> judging_classifier(RunReport& r, const RunInputs& in, ReportCache& cache) {
  const ReportOptions& options = in.options;
  const std::string fingerprint = classifier_fingerprint(in.data.train, r.config.classes, options.classifier);
  std::shared_ptr<ImageClassifier> classifier;
  if (cache.classifiers.count(fingerprint)) {
    classifier = cache.classifiers[fingerprint];
    r.classifier_note = "classifier reused from an earlier run of this report";
  } else {
    std::string cache_path;
    if (options.cache_dir != "none") {
      const std::string dir =
          options.cache_dir.empty()
              ? parent_folder(resolve_dataset_files(report_dataset_config(r.config)).train_images)
              : options.cache_dir;
      cache_path = dir + "/classifier-" + r.config.dataset + "-" + fingerprint + ".safetensors";
    }
    in.say("classifier for " + r.config.dataset + "…");
    classifier = std::make_shared<ImageClassifier>(cached_image_classifier(
        cache_path, in.data.train, in.data.test, r.config.classes, options.classifier, &r.classifier_note));
    cache.classifiers[fingerprint] = classifier;
    in.say(r.classifier_note + "; its test accuracy " + percent_text(classifier->test_accuracy, 2));
  }
  r.classifier_accuracy = classifier->test_accuracy;
  r.classifier_accuracy_per_class = classifier->test_accuracy_per_class;
  return classifier;
}

GridSpec grid_of(const GeneratedImages& images, int rows, const RunInputs& in) {
  GridSpec spec;
  spec.images = images.pixels_data.data();
  spec.rows = rows;
  spec.columns = in.columns();
  spec.image_rows = in.image_rows();
  spec.image_cols = in.image_cols();
  return spec;
}

// A grid of class-conditional samples, and the fraction of judged samples in their class.
void add_conditional_samples(RunReport& r, const RunInputs& in, const ImageClassifier& classifier) {
  const Config& config = r.config;
  GeneratedImages grid = conditional_samples(in.backend, config, in.run.state, in.columns(), in.options.seed,
                                             kSampleConditionalGrid, true);
  GridSpec spec = grid_of(grid, config.classes, in);
  spec.title = method_title(config.method) + ": " + traits(config.method).class_sample_text;
  spec.row_labels = r.class_names;
  r.conditional_grid = image_grid(spec);

  GeneratedImages judged = conditional_samples(in.backend, config, in.run.state, in.options.samples_per_class,
                                               in.options.seed, kSampleConditionalAccuracy, false);
  std::vector<int32_t> predicted = classify_images(classifier, judged.pixels_data.data(), judged.count);
  std::vector<int64_t> hits(config.classes, 0), totals(config.classes, 0);
  int64_t all_hits = 0;
  for (int64_t i = 0; i < judged.count; ++i) {
    ++totals[judged.group[i]];
    if (predicted[i] == judged.group[i]) {
      ++hits[judged.group[i]];
      ++all_hits;
    }
  }
  r.conditional_accuracy = judged.count ? static_cast<double>(all_hits) / judged.count : 0;
  for (int c = 0; c < config.classes; ++c)
    r.conditional_accuracy_per_class.push_back(totals[c] ? static_cast<double>(hits[c]) / totals[c] : 0);
  in.say("conditional_sample_accuracy " + percent_text(r.conditional_accuracy, 2));
}

// A grid of samples around each k-means centre, each row labelled with the class the classifier
// gives most of the centre's judged samples.
void add_cluster_samples(RunReport& r, const RunInputs& in, const ImageClassifier& classifier) {
  const Config& config = r.config;
  const int k = in.run.state.prior->num_means();
  const int judged_per_centre = in.options.samples_per_class;
  GeneratedImages judged = cluster_samples(in.backend, config, in.run.state, judged_per_centre, in.options.seed,
                                           kSampleConditionalAccuracy, false);
  std::vector<int32_t> predicted = classify_images(classifier, judged.pixels_data.data(), judged.count);
  std::vector<std::vector<int64_t>> votes(k, std::vector<int64_t>(config.classes, 0));
  for (int64_t i = 0; i < judged.count; ++i) ++votes[judged.group[i]][predicted[i]];
  std::vector<std::string> labels;
  for (int g = 0; g < k; ++g) {
    const int best = static_cast<int>(std::max_element(votes[g].begin(), votes[g].end()) - votes[g].begin());
    const double share = judged_per_centre > 0 ? static_cast<double>(votes[g][best]) / judged_per_centre : 0;
    r.cluster_majority_class.push_back(best);
    r.cluster_majority_share.push_back(share);
    labels.push_back(std::to_string(g) + ": " + r.class_names[best] + " " + percent_text(share, 0));
  }
  double purity = 0;
  for (double s : r.cluster_majority_share) purity += s / r.cluster_majority_share.size();
  r.cluster_sample_purity = purity;
  GeneratedImages grid = cluster_samples(in.backend, config, in.run.state, in.columns(), in.options.seed,
                                         kSampleClusterGrid, true);
  GridSpec spec = grid_of(grid, k, in);
  spec.title = "K-Means VAE: z ~ N(c_k, I), one row per centre";
  spec.row_labels = labels;
  r.cluster_grid = image_grid(spec);
}

// Test images (two of each class) above their reconstructions with z = μ(x).
void add_reconstructions(RunReport& r, const RunInputs& in) {
  const LabelledImages& test = in.data.test;
  const int per_row = std::min(r.config.classes, 20);
  std::vector<int64_t> rows = reconstruction_rows(test, per_row, 2);
  if (static_cast<int>(rows.size()) != 2 * per_row) {  // a class missing from the test split
    rows.clear();
    for (int64_t i = 0; i < std::min<int64_t>(2 * per_row, test.images.count); ++i) rows.push_back(i);
  }
  const int half = static_cast<int>(rows.size()) / 2;
  GeneratedImages recon = reconstruct_images(in.backend, in.run.state, test, rows);
  const int pixels = in.image_rows() * in.image_cols();
  std::vector<float> tiles(static_cast<size_t>(4) * half * pixels);
  for (int block = 0; block < 2; ++block)
    for (int i = 0; i < half; ++i) {
      const int64_t row = rows[block * half + i];
      float* original = &tiles[(static_cast<size_t>(2 * block) * half + i) * pixels];
      float* rebuilt = &tiles[(static_cast<size_t>(2 * block + 1) * half + i) * pixels];
      for (int p = 0; p < pixels; ++p)
        original[p] = test.images.pixels[static_cast<size_t>(row) * pixels + p] / 255.0f;
      std::copy_n(&recon.pixels_data[static_cast<size_t>(block * half + i) * pixels], pixels, rebuilt);
    }
  GridSpec spec;
  spec.title = "Reconstructions: test images above, z = μ(x) below";
  spec.images = tiles.data();
  spec.rows = half > 0 ? 4 : 0;
  spec.columns = half;
  spec.image_rows = in.image_rows();
  spec.image_cols = in.image_cols();
  spec.row_labels = {"original", "rebuilt", "original", "rebuilt"};
  spec.gap_after_rows = {1};
  if (half > 0) r.reconstructions = image_grid(spec);
}

void add_prior_samples(RunReport& r, const RunInputs& in) {
  const int prior_rows = 5;
  GeneratedImages prior =
      prior_samples(in.backend, r.config, in.run.state, prior_rows * in.columns(), in.options.seed);
  GridSpec spec = grid_of(prior, prior_rows, in);
  spec.title = std::string("Prior samples: ") + traits(r.config.method).prior_text;
  r.prior_grid = image_grid(spec);
}

// The report's own numbers go to report.json: metrics.json stays what training wrote, so a
// resumed run (which rewrites metrics.json) loses nothing of the report's, and nothing stale
// of the report's lingers in metrics.json.
void set_report_metrics(RunReport& r, const ReportOptions& options, bool judged) {
  nlohmann::ordered_json& own = r.report_metrics;
  own["epochs_done"] = r.epochs_done;
  if (r.conditional_accuracy) {
    own["conditional_sample_accuracy"] = *r.conditional_accuracy;
    own["conditional_sample_accuracy_per_class"] = r.conditional_accuracy_per_class;
    own["conditional_samples_per_class"] = options.samples_per_class;
  }
  if (r.cluster_sample_purity) {
    own["cluster_sample_purity"] = *r.cluster_sample_purity;
    own["cluster_sample_majority_class"] = r.cluster_majority_class;
  }
  if (judged) own["sample_classifier_test_accuracy"] = *r.classifier_accuracy;
  own["tsne_seconds"] = r.tsne_seconds;
  own["tsne_kl_divergence"] = r.tsne_kl;
  own["tsne_method"] = r.tsne_method;
}

}  // namespace

Config report_dataset_config(const Config& run_config) {
  Config c = run_config;
  c.train_limit = 0;
  c.test_limit = 0;
  return c;
}

ScatterSpec tsne_spec(const RunReport& r, uint64_t seed) {
  ScatterSpec spec;
  spec.title = "t-SNE of the test set's μ: " + method_title(r.config.method) + ", " +
               dataset_title(r.config.dataset);
  spec.subtitle = std::to_string(r.tsne_labels.size()) + " points, coloured by label";
  spec.xy = &r.tsne_xy;
  spec.labels = &r.tsne_labels;
  spec.names = r.class_names;
  spec.seed = seed;
  return spec;
}

RunReport compute_run(const std::string& run_dir, const ReportOptions& options, ReportCache& cache) {
  std::unique_ptr<Backend> backend = make_backend(options.device, options.threads);
  const LoadedRun run = load_run(*backend, run_dir);
  RunReport r;
  read_run_files(r, run_dir, run);
  const Config& config = r.config;

  // The data set, once per command.
  const Config data_config = report_dataset_config(config);
  const std::string key = dataset_key(data_config);
  if (!cache.datasets.count(key)) cache.datasets[key] = std::make_shared<HostDataset>(load_dataset(data_config));
  const HostDataset& data = *cache.datasets[key];
  if (data.pixels() != run.state.shape.pixels)
    fail(r.run_dir + ": the weights are for " + std::to_string(run.state.shape.pixels) +
         "-pixel images, the data set's are " + std::to_string(data.test.images.rows) + "x" +
         std::to_string(data.test.images.cols));
  const RunInputs in{*backend, run, data, options};

  add_tsne(r, in);
  // The classifier judges samples only of methods with a conditional sampler or centres.
  const bool judges = traits(config.method).class_sampler || traits(config.method).prior == PriorMeans::nearest_centre;
  std::shared_ptr<ImageClassifier> classifier;
  if (judges) classifier = judging_classifier(r, in, cache);
  if (traits(config.method).class_sampler) add_conditional_samples(r, in, *classifier);
  if (traits(config.method).prior == PriorMeans::nearest_centre) add_cluster_samples(r, in, *classifier);
  add_reconstructions(r, in);
  add_prior_samples(r, in);
  set_report_metrics(r, options, judges);
  return r;
}

}  // namespace cvae

// One run's report, computed: for a run folder, from config.json, weights.safetensors, log.jsonl,
// metrics.json and the data set, everything its page shows:
//   - t-SNE of the test set's μ (the first tsne_points images), coloured by label
//   - class-conditional sample grids (cvae: label given, z ~ N(0, I); lambdahot: z ~ N(λe_y, I);
//     movable: z ~ N(c_y, I)), one row per class, columns sharing ε
//   - samples around each k-means centre (kmeans), one row per cluster, labelled by the classifier
//   - reconstructions (z = μ), originals above
//   - random samples of the method's prior
//   - conditional_sample_accuracy: a classifier trained on the real training set labels
//     samples_per_class generated images per class; the fraction in the intended class (overall
//     and per class), with the classifier's own test accuracy
// Nothing is written here: report/report.h writes the files.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/config.h"
#include "engine/data/dataset.h"
#include "report/classifier.h"
#include "report/figures.h"
#include "report/raster.h"

namespace cvae {

struct ReportOptions {
  std::string device = "auto";
  int threads = 0;
  uint64_t seed = 1;            // samples, t-SNE layout, drawing order
  int tsne_points = 10000;      // the first N test images (0 = all)
  int tsne_iterations = 1000;
  double tsne_perplexity = 30;
  int samples_per_class = 1000; // images the classifier judges, per class
  int grid_columns = 10;        // images per row in the sample grids
  ClassifierOptions classifier;
  // Where trained classifiers are kept (classifier-<dataset>-<fingerprint>.safetensors):
  // "" = the folder of the data set's training images; "none" = never cache.
  std::string cache_dir;
  std::function<void(const std::string&)> log;  // progress lines (stderr in the apps)
};

struct EpochLog {
  int epoch = 0;
  double loss = 0, bce = 0, kl = 0;
};

// Everything one run's report shows; kept in memory for the comparison page.
struct RunReport {
  std::string run_dir, title;
  Config config;
  int epochs_done = 0;
  std::vector<EpochLog> epochs;
  nlohmann::ordered_json metrics;   // the run's metrics.json, as training wrote it (null when none)
  bool metrics_file = false;        // the run folder had a metrics.json
  // The report's own numbers (t-SNE, the classifier's verdict on the samples), written to
  // report.json beside metrics.json — which the report never changes.
  nlohmann::ordered_json report_metrics = nlohmann::ordered_json::object();
  std::vector<std::string> class_names;
  // t-SNE
  std::vector<double> tsne_xy;
  std::vector<int32_t> tsne_labels;
  double tsne_seconds = 0, tsne_kl = 0;
  std::string tsne_method;          // "Barnes–Hut" (CPU) or "exact, GPU"
  Raster tsne_png;
  std::string tsne_svg;
  // figures (an empty raster when the method has none)
  Raster conditional_grid, cluster_grid, reconstructions, prior_grid;
  // the classifier's verdict
  std::optional<double> classifier_accuracy;   // set where a classifier judged samples
  std::vector<double> classifier_accuracy_per_class;
  std::optional<double> conditional_accuracy;  // unset: the method has no class-conditional sampler
  std::vector<double> conditional_accuracy_per_class;
  std::vector<int> cluster_majority_class;     // kmeans: the classifier's majority label per centre
  std::vector<double> cluster_majority_share;
  std::optional<double> cluster_sample_purity;  // kmeans: the mean of the shares above
  std::string classifier_note;
  std::string html_path;
};

// Data sets and classifiers shared by the runs of one command: each is loaded or trained once.
struct ReportCache {
  std::map<std::string, std::shared_ptr<HostDataset>> datasets;           // by files and classes
  std::map<std::string, std::shared_ptr<ImageClassifier>> classifiers;   // by data fingerprint
};

// The data set a report reads: the run's files, but every image (no train/test limits).
Config report_dataset_config(const Config& run_config);

// Computes one run's report (see above). The folder must have passed check_run_folder.
RunReport compute_run(const std::string& run_dir, const ReportOptions& options, ReportCache& cache);

// The t-SNE scatter of one run as the run page draws it (the comparison page adapts it).
ScatterSpec tsne_spec(const RunReport& r, uint64_t seed);

}  // namespace cvae

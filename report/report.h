// The run report: for each run folder, the paper's figures and a self-contained
// report.html; for several runs, a comparison page that puts them side by side.
//
// For one run folder it computes, from config.json, weights.safetensors and the data set:
//   - t-SNE of the test set's μ (first tsne_points images), coloured by label → figures/tsne.{png,svg}
//   - class-conditional sample grids (cvae: label given, z ~ N(0, I); lambdahot: z ~ N(λe_y, I)),
//     one row per class, columns sharing ε → figures/samples_conditional.png
//   - samples around each k-means centre (kmeans), one row per cluster → figures/samples_clusters.png
//   - reconstructions (z = μ), originals above → figures/reconstructions.png
//   - random samples of the method's prior → figures/samples_prior.png
//   - conditional_sample_accuracy: a classifier trained on the real training set labels
//     samples_per_class generated images per class; the fraction in the intended class (overall and
//     per class) goes into metrics.json with the classifier's own test accuracy
//   - report.html: config, training curves (from log.jsonl), metrics and every figure, images
//     embedded as data: URIs (no network, no files beside it needed)
// Every file is written atomically, after everything is computed; report.html goes last.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/classifier.h"
#include "engine/config.h"
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
  double classifier_accuracy = -1;
  std::vector<double> classifier_accuracy_per_class;
  double conditional_accuracy = -1;  // −1: the method has no class-conditional sampler
  std::vector<double> conditional_accuracy_per_class;
  std::vector<int> cluster_majority_class;     // kmeans: the classifier's majority label per centre
  std::vector<double> cluster_majority_share;
  std::string classifier_note;
  std::string html_path;
};

// Checks that a folder can be reported on — it exists, config.json and weights.safetensors read
// and agree, the data set's files exist — without writing anything. Throws Error naming it.
void check_run_folder(const std::string& run_dir);

// Computes and writes one run's report (see above). Returns what it showed.
RunReport report_run(const std::string& run_dir, const ReportOptions& options);

// The comparison page of several runs, written as <out_dir>/compare.html with the composite
// figures beside it (tsne_<dataset>.png, samples_<dataset>_cvae_vs_lambdahot.png). Returns the
// page's path.
std::string write_comparison(const std::vector<RunReport>& runs, const std::string& out_dir,
                             const ReportOptions& options);

// Verdicts on class-specific sampling per data set (mean over seeds of conditional_sample_accuracy,
// Lambda-Hot against CVAE), as plain text lines; empty when a data set lacks either method.
std::vector<std::string> sampling_verdicts(const std::vector<RunReport>& runs);

// The whole command: checks every folder first (nothing is written if one is bad), writes each
// run's report, then — for two or more runs — the comparison page into compare_dir (made if
// missing; "" = a new folder compare-<time> in the runs' common parent). Returns the reports;
// *compare_path receives the page's path (empty for a single run).
std::vector<RunReport> report_runs(const std::vector<std::string>& run_dirs,
                                   const ReportOptions& options, const std::string& compare_dir,
                                   std::string* compare_path);

}  // namespace cvae

#include "report/report.h"

#include <omp.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "engine/backend/backend.h"
#include "engine/train/checkpoint.h"
#include "engine/data/dataset.h"
#include "engine/error.h"
#include "report/figures.h"
#include "engine/io/files.h"
#include "report/html.h"
#include "report/png.h"
#include "engine/io/svg.h"
#include "report/metric_labels.h"
#include "report/sampling.h"
#include "report/table1.h"
#include "report/tsne.h"

namespace cvae {

namespace {

// ---------------------------------------------------------------- small helpers

bool is_folder(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

bool is_file(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

std::string strip_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

std::string parent_of(const std::string& path) {
  std::string p = strip_slashes(path);
  auto slash = p.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}

std::string base_name(const std::string& path) {
  std::string p = strip_slashes(path);
  auto slash = p.find_last_of('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::string fixed(double v, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, v);
  return text;
}

std::string percent(double v, int digits = 1) { return fixed(100 * v, digits) + "%"; }

std::string dataset_title(const std::string& d) {
  if (d == "mnist") return "MNIST";
  if (d == "fashion") return "FashionMNIST";
  return d;
}

std::string now_text() {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  ::localtime_r(&now, &local);
  char text[64];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  return text;
}

// The data set a report reads: the run's files, but every image (no train/test limits).
Config dataset_config(const Config& run_config) {
  Config c = run_config;
  c.train_limit = 0;
  c.test_limit = 0;
  return c;
}

std::string dataset_key(const Config& config) {
  DatasetFiles f = resolve_dataset_files(config);
  return f.train_images + "\n" + f.train_labels + "\n" + f.test_images + "\n" + f.test_labels + "\n" +
         std::to_string(config.classes);
}

// Data sets and classifiers shared by the runs of one command.
struct SharedState {
  std::map<std::string, std::shared_ptr<HostDataset>> datasets;
  std::map<std::string, std::shared_ptr<ImageClassifier>> classifiers;  // by fingerprint
};

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

std::string png_img(const Raster& image, const std::string& alt, const std::string& css_class = "") {
  return "<img src=\"" + data_uri("image/png", encode_png(image)) + "\" alt=\"" + html_escape(alt) +
         "\" width=\"" + std::to_string(image.width) + "\" height=\"" + std::to_string(image.height) +
         "\"" + (css_class.empty() ? "" : " class=\"" + css_class + "\"") + ">";
}

const char* kStyle = R"CSS(
body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 24px auto; max-width: 1240px;
       color: #222; padding: 0 16px; line-height: 1.45; }
h1 { font-size: 26px; margin-bottom: 4px; }
h2 { font-size: 20px; margin-top: 36px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 16px; margin-top: 22px; }
.sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 14px; }
th, td { border: 1px solid #d6d6d6; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 12px 0 24px; }
figcaption { color: #555; font-size: 14px; max-width: 980px; }
img { max-width: 100%; height: auto; border: 1px solid #e6e6e6; }
.row { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
.row figure { margin: 0; }
.verdict { font-size: 16px; padding: 8px 12px; background: #f6f8fa; border-left: 4px solid #4a7; margin: 6px 0; }
.verdict.no { border-left-color: #c55; }
.key { font-size: 15px; }
code { background: #f3f3f3; padding: 1px 4px; }
)CSS";

std::string page_start(const std::string& title) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
         html_escape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
}

std::string page_end() { return "</body>\n</html>\n"; }

std::string json_cell(const nlohmann::ordered_json& v) {
  if (v.is_null()) return "–";
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer() || v.is_number_unsigned()) return std::to_string(v.get<int64_t>());
  if (v.is_number()) {
    char text[64];
    std::snprintf(text, sizeof text, "%.6g", v.get<double>());
    return text;
  }
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string out;
    size_t shown = 0;
    for (const auto& item : v) {
      if (shown == 12) {
        out += ", … (" + std::to_string(v.size()) + " values)";
        break;
      }
      out += (shown++ ? ", " : "") + json_cell(item);
    }
    return "[" + out + "]";
  }
  return v.dump();
}

std::string curves_for(const RunReport& r) {
  std::vector<CurveSeries> series(3);
  series[0] = {"loss", {}, {31, 119, 180}};
  series[1] = {"BCE", {}, {255, 127, 14}};
  series[2] = {"KL", {}, {44, 160, 44}};
  for (const EpochLog& e : r.epochs) {
    series[0].values.push_back(e.loss);
    series[1].values.push_back(e.bce);
    series[2].values.push_back(e.kl);
  }
  return curves_svg("Training loss per epoch (mean per image)", series);
}

std::string conditional_caption(const RunReport& r) {
  if (r.config.method == Method::cvae)
    return "Class-conditional samples of the Conditional VAE: one row per class, the label given to "
           "the decoder with z ~ N(0, I); each column shares its ε (paper, Figures 4–5, left).";
  if (traits(r.config.method).refit == Refit::class_centres)
    return "Class-conditional samples of the movable-centre Lambda-Hot VAE: one row per class y, "
           "z ~ N(c_y, I) around its learnt class centre c_y; each column shares its ε.";
  return "Class-conditional samples of the Lambda-Hot VAE: one row per class y, z ~ N(λ·e_y, I) with "
         "λ = " + svg_number(r.config.lambda, 3) +
         " on the first " + std::to_string(r.config.classes) +
         " dimensions; each column shares its ε (paper, Figures 4–5, right).";
}

std::string accuracy_table(const RunReport& r) {
  std::string html = "<table><tr><th>class</th><th>conditional samples in the intended class</th>"
                     "<th>classifier on real test images</th></tr>\n";
  for (size_t c = 0; c < r.class_names.size(); ++c) {
    html += "<tr><td>" + html_escape(r.class_names[c]) + "</td><td class=\"num\">" +
            (c < r.conditional_accuracy_per_class.size() ? percent(r.conditional_accuracy_per_class[c]) : "–") +
            "</td><td class=\"num\">" +
            (c < r.classifier_accuracy_per_class.size() ? percent(r.classifier_accuracy_per_class[c]) : "–") +
            "</td></tr>\n";
  }
  html += "<tr><th>all</th><th class=\"num\">" + percent(r.conditional_accuracy) + "</th><th class=\"num\">" +
          percent(r.classifier_accuracy) + "</th></tr>\n</table>\n";
  return html;
}

// A metrics object as a table: the readable name, the value formatted for reading (numbers
// right-aligned, words not), and the key as the JSON file has it.
std::string metrics_table(const nlohmann::ordered_json& metrics) {
  std::string html = "<table><tr><th>metric</th><th>value</th><th>key</th></tr>\n";
  for (auto it = metrics.begin(); it != metrics.end(); ++it) {
    const nlohmann::ordered_json& v = it.value();
    const bool number = v.is_number() || v.is_null() || (v.is_array() && !v.empty() && v.front().is_number());
    html += "<tr><td>" + html_escape(metric_label(it.key()).label) + "</td><td" + (number ? " class=\"num\"" : "") +
            ">" + html_escape(format_metric(it.key(), v)) + "</td><td><code>" + html_escape(it.key()) +
            "</code></td></tr>\n";
  }
  return html + "</table>\n";
}

std::string run_html(const RunReport& r, const ReportOptions& options) {
  std::string h = page_start(r.title);
  h += "<h1>" + html_escape(r.title) + "</h1>\n<p class=\"sub\">run folder <code>" +
       html_escape(r.run_dir) + "</code> · " + std::to_string(r.epochs_done) + " of " +
       std::to_string(r.config.epochs) + " epochs · report written " + now_text() + "</p>\n";

  // Key numbers first.
  h += "<ul class=\"key\">\n";
  if (r.metrics.is_object() && r.metrics.contains("test_bce_sampled") && r.metrics["test_bce_sampled"].is_number())
    h += "<li>" + html_escape(metric_label("test_bce_sampled").label) + ", the paper's Table 1 figure: <b>" +
         format_metric("test_bce_sampled", r.metrics["test_bce_sampled"]) + "</b></li>\n";
  if (r.conditional_accuracy >= 0)
    h += "<li>" + html_escape(metric_label("conditional_sample_accuracy").label) + ": <b>" +
         format_metric("conditional_sample_accuracy", r.conditional_accuracy) + "</b> of " +
         std::to_string(options.samples_per_class) +
         " generated images per class land in the intended class, judged by a classifier whose own "
         "test accuracy is " + percent(r.classifier_accuracy) + "</li>\n";
  if (!r.cluster_majority_class.empty()) {
    double mean = 0;
    for (double s : r.cluster_majority_share) mean += s / r.cluster_majority_share.size();
    h += "<li>samples around a k-means centre share the centre's majority class (by the classifier): <b>" +
         percent(mean) + "</b> on average</li>\n";
  }
  h += "<li>t-SNE of " + std::to_string(r.tsne_labels.size()) + " test points: " +
       fixed(r.tsne_seconds, 1) + " s, KL(P‖Q) = " + fixed(r.tsne_kl, 3) + "</li>\n</ul>\n";
  if (!r.metrics_file)
    h += "<p>This run folder has no metrics.json (the run has not finished, or ran with "
         "evaluate=false): the numbers above are shown here only.</p>\n";

  h += "<h2>Training</h2>\n" + curves_for(r);

  h += "<h2>Latent space</h2>\n<figure>" + png_img(r.tsne_png, "t-SNE of the test set's mu") +
       "<figcaption>t-SNE (" + r.tsne_method + ", perplexity " + fixed(options.tsne_perplexity, 0) + ", " +
       std::to_string(options.tsne_iterations) + " iterations, seed " + std::to_string(options.seed) +
       ") of μ of the first " + std::to_string(r.tsne_labels.size()) +
       " test images, coloured by label (paper, Figures 2–3). Also in figures/tsne.svg.</figcaption></figure>\n";

  h += "<h2>Samples</h2>\n";
  if (r.conditional_grid.width > 0) {
    h += "<figure>" + png_img(r.conditional_grid, "class-conditional samples") + "<figcaption>" +
         html_escape(conditional_caption(r)) + "</figcaption></figure>\n";
    h += "<h3>How often a sample is of the class it was drawn for</h3>\n" + accuracy_table(r) +
         "<p>" + std::to_string(options.samples_per_class) +
         " samples per class, each with its own ε; the classifier is an MLP (" +
         std::to_string(options.classifier.hidden) + " hidden units, " +
         std::to_string(options.classifier.epochs) + " epochs) trained on the real training set. " +
         html_escape(r.classifier_note) + ".</p>\n";
  }
  if (r.cluster_grid.width > 0)
    h += "<figure>" + png_img(r.cluster_grid, "samples around each k-means centre") +
         "<figcaption>Samples z ~ N(c_k, I) around each k-means centre c_k, one row per cluster "
         "(paper, Figure 6); the label is the class the classifier gives most of " +
         std::to_string(options.samples_per_class) + " such samples, with its share. " +
         html_escape(r.classifier_note) + ".</figcaption></figure>\n";
  // The class centres' distances (lambdahot, movable: written by training), inline.
  const std::string heat_map = r.run_dir + "/centre_distances.svg";
  if (is_file(heat_map)) {
    std::string svg = read_file(heat_map);
    if (svg.rfind("<svg", 0) == 0)
      h += "<figure>" + svg + "<figcaption>Distances between the class centres of the prior "
           "(centres.json), with their colour scale; the diagonal is grey.</figcaption></figure>\n";
  }
  h += "<figure>" + png_img(r.reconstructions, "reconstructions") +
       "<figcaption>Reconstructions with z = μ(x): test images above, their reconstructions below "
       "(paper, Figure 7).</figcaption></figure>\n";
  h += "<figure>" + png_img(r.prior_grid, "random prior samples") +
       "<figcaption>Random samples of the method's prior (" +
       html_escape(traits(r.config.method).prior_text) +
       ").</figcaption></figure>\n";

  h += "<h2>Metrics</h2>\n";
  h += r.metrics.is_object() ? metrics_table(r.metrics) : "<p>No metrics.json.</p>\n";
  h += "<h2>This report's numbers (<code>report.json</code>)</h2>\n" + metrics_table(r.report_metrics);

  h += "<h2>Configuration</h2>\n<table><tr><th>key</th><th>value</th></tr>\n";
  nlohmann::json config = to_json(r.config);
  for (const std::string& key : config_keys())
    if (config.contains(key))
      h += "<tr><td>" + html_escape(key) + "</td><td>" + html_escape(json_cell(config[key])) + "</td></tr>\n";
  h += "</table>\n" + page_end();
  return h;
}

// ---------------------------------------------------------------- one run

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

RunReport compute_run(const std::string& run_dir, const ReportOptions& options, SharedState& shared) {
  auto say = [&](const std::string& line) {
    if (options.log) options.log(line);
  };
  std::unique_ptr<Backend> backend = make_backend(options.device, options.threads);
  LoadedRun run = load_run(*backend, run_dir);
  RunReport r;
  r.run_dir = strip_slashes(run_dir);
  r.config = run.config;
  r.epochs_done = run.epoch;
  const Config& config = r.config;
  r.title = method_title(config.method) + " · " + dataset_title(config.dataset) + " · seed " +
            std::to_string(config.seed) + " — " + base_name(run_dir);
  r.class_names = label_names(config.dataset, config.classes);
  r.epochs = read_epoch_log(r.run_dir + "/log.jsonl");
  const std::string metrics_path = r.run_dir + "/metrics.json";
  r.metrics_file = is_file(metrics_path);
  if (r.metrics_file) {
    r.metrics = nlohmann::ordered_json::parse(read_file(metrics_path), nullptr, false);
    if (r.metrics.is_discarded() || !r.metrics.is_object()) fail(metrics_path + ": not a JSON object");
  }

  // The data set, once per command.
  const Config data_config = dataset_config(config);
  const std::string key = dataset_key(data_config);
  if (!shared.datasets.count(key)) shared.datasets[key] = std::make_shared<HostDataset>(load_dataset(data_config));
  const HostDataset& data = *shared.datasets[key];
  const int image_rows = data.test.images.rows, image_cols = data.test.images.cols;
  if (image_rows * image_cols != run.state.shape.pixels)
    fail(r.run_dir + ": the weights are for " + std::to_string(run.state.shape.pixels) +
         "-pixel images, the data set's are " + std::to_string(image_rows) + "x" + std::to_string(image_cols));

  // t-SNE of μ of the first tsne_points test images.
  const int64_t tsne_n = options.tsne_points > 0 ? std::min<int64_t>(options.tsne_points, data.test.images.count)
                                                 : data.test.images.count;
  {
    DeviceSplit test = upload_split(*backend, data.test);
    Buffer mu = encode_split(*backend, run.state, test, config.eval_batch);
    const int width = 2 * run.state.shape.latent;
    std::vector<float> host(static_cast<size_t>(test.count) * width);
    backend->download(host.data(), mu.as<void>(), sizeof(float) * host.size());
    // On a GPU the gradient is exact (all pairs, report/tsne.h); on the CPU, Barnes–Hut.
    const bool on_gpu = backend->supports(Capability::all_pairs_tsne);
    say("t-SNE of " + std::to_string(tsne_n) + " test points (" + std::to_string(run.state.shape.latent) +
        " dimensions; " + (on_gpu ? "exact gradient on the GPU" : "Barnes–Hut on the CPU") + ")…");
    TsneOptions t;
    if (on_gpu) t.backend = backend.get();
    r.tsne_method = on_gpu ? "exact, GPU" : "Barnes–Hut";
    t.perplexity = options.tsne_perplexity;
    t.iterations = options.tsne_iterations;
    t.exaggeration_iterations = std::min(250, options.tsne_iterations / 4);
    t.seed = options.seed;
    TsneResult result = tsne(host.data(), tsne_n, run.state.shape.latent, width, t);
    r.tsne_xy = std::move(result.embedding);
    r.tsne_seconds = result.seconds;
    r.tsne_kl = result.kl_divergence;
    r.tsne_labels.assign(data.test.labels.labels.begin(), data.test.labels.labels.begin() + tsne_n);
    say("t-SNE done in " + fixed(r.tsne_seconds, 1) + " s (KL " + fixed(r.tsne_kl, 3) + ")");
    ScatterSpec spec = tsne_spec(r, options.seed);
    r.tsne_png = scatter_raster(spec);
    r.tsne_svg = scatter_svg(spec);
  }

  // The classifier that judges samples: only methods with a conditional sampler or centres.
  const bool judges =
      traits(config.method).class_sampler || traits(config.method).prior == PriorMeans::nearest_centre;
  std::shared_ptr<ImageClassifier> classifier;
  if (judges) {
    const std::string fingerprint = classifier_fingerprint(data.train, config.classes, options.classifier);
    if (shared.classifiers.count(fingerprint)) {
      classifier = shared.classifiers[fingerprint];
      r.classifier_note = "classifier reused from an earlier run of this report";
    } else {
      std::string cache_path;
      if (options.cache_dir != "none") {
        std::string dir = options.cache_dir.empty() ? parent_of(resolve_dataset_files(data_config).train_images)
                                                    : options.cache_dir;
        cache_path = dir + "/classifier-" + config.dataset + "-" + fingerprint + ".safetensors";
      }
      say("classifier for " + config.dataset + "…");
      classifier = std::make_shared<ImageClassifier>(cached_image_classifier(
          cache_path, data.train, data.test, config.classes, options.classifier, &r.classifier_note));
      shared.classifiers[fingerprint] = classifier;
      say(r.classifier_note + "; its test accuracy " + percent(classifier->test_accuracy, 2));
    }
    r.classifier_accuracy = classifier->test_accuracy;
    r.classifier_accuracy_per_class = classifier->test_accuracy_per_class;
  }

  const int columns = std::max(1, options.grid_columns);
  if (traits(config.method).class_sampler) {
    GeneratedImages grid = conditional_samples(*backend, config, run.state, columns, options.seed,
                                               kSampleConditionalGrid, true);
    GridSpec spec;
    spec.title = method_title(config.method) + ": " + traits(config.method).class_sample_text;
    spec.images = grid.pixels_data.data();
    spec.rows = config.classes;
    spec.columns = columns;
    spec.image_rows = image_rows;
    spec.image_cols = image_cols;
    spec.row_labels = r.class_names;
    r.conditional_grid = image_grid(spec);

    GeneratedImages judged = conditional_samples(*backend, config, run.state, options.samples_per_class,
                                                 options.seed, kSampleConditionalAccuracy, false);
    std::vector<int32_t> predicted = classify_images(*classifier, judged.pixels_data.data(), judged.count);
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
    say("conditional_sample_accuracy " + percent(r.conditional_accuracy, 2));
  }
  if (traits(config.method).prior == PriorMeans::nearest_centre) {
    const int k = run.state.prior->num_means();
    GeneratedImages judged = cluster_samples(*backend, config, run.state, options.samples_per_class,
                                             options.seed, kSampleConditionalAccuracy, false);
    std::vector<int32_t> predicted = classify_images(*classifier, judged.pixels_data.data(), judged.count);
    std::vector<std::vector<int64_t>> votes(k, std::vector<int64_t>(config.classes, 0));
    for (int64_t i = 0; i < judged.count; ++i) ++votes[judged.group[i]][predicted[i]];
    std::vector<std::string> labels;
    for (int g = 0; g < k; ++g) {
      int best = static_cast<int>(std::max_element(votes[g].begin(), votes[g].end()) - votes[g].begin());
      double share = options.samples_per_class > 0 ? static_cast<double>(votes[g][best]) / options.samples_per_class : 0;
      r.cluster_majority_class.push_back(best);
      r.cluster_majority_share.push_back(share);
      labels.push_back(std::to_string(g) + ": " + r.class_names[best] + " " + percent(share, 0));
    }
    GeneratedImages grid = cluster_samples(*backend, config, run.state, columns, options.seed,
                                           kSampleClusterGrid, true);
    GridSpec spec;
    spec.title = "K-Means VAE: z ~ N(c_k, I), one row per centre";
    spec.images = grid.pixels_data.data();
    spec.rows = k;
    spec.columns = columns;
    spec.image_rows = image_rows;
    spec.image_cols = image_cols;
    spec.row_labels = labels;
    r.cluster_grid = image_grid(spec);
  }
  {
    const int per_row = std::min(config.classes, 20);
    std::vector<int64_t> rows = reconstruction_rows(data.test, per_row, 2);
    if (static_cast<int>(rows.size()) != 2 * per_row) {  // a class missing from the test split
      rows.clear();
      for (int64_t i = 0; i < std::min<int64_t>(2 * per_row, data.test.images.count); ++i) rows.push_back(i);
    }
    const int half = static_cast<int>(rows.size()) / 2;
    GeneratedImages recon = reconstruct_images(*backend, run.state, data.test, rows);
    const int pixels = image_rows * image_cols;
    std::vector<float> tiles(static_cast<size_t>(4) * half * pixels);
    for (int block = 0; block < 2; ++block)
      for (int i = 0; i < half; ++i) {
        int64_t row = rows[block * half + i];
        float* original = &tiles[(static_cast<size_t>(2 * block) * half + i) * pixels];
        float* rebuilt = &tiles[(static_cast<size_t>(2 * block + 1) * half + i) * pixels];
        for (int p = 0; p < pixels; ++p)
          original[p] = data.test.images.pixels[static_cast<size_t>(row) * pixels + p] / 255.0f;
        std::copy_n(&recon.pixels_data[static_cast<size_t>(block * half + i) * pixels], pixels, rebuilt);
      }
    GridSpec spec;
    spec.title = "Reconstructions: test images above, z = μ(x) below";
    spec.images = tiles.data();
    spec.rows = half > 0 ? 4 : 0;
    spec.columns = half;
    spec.image_rows = image_rows;
    spec.image_cols = image_cols;
    spec.row_labels = {"original", "rebuilt", "original", "rebuilt"};
    spec.gap_after_rows = {1};
    if (half > 0) r.reconstructions = image_grid(spec);
  }
  {
    const int prior_rows = 5;
    GeneratedImages prior = prior_samples(*backend, config, run.state, prior_rows * columns, options.seed);
    GridSpec spec;
    spec.title = std::string("Prior samples: ") + traits(config.method).prior_text;
    spec.images = prior.pixels_data.data();
    spec.rows = prior_rows;
    spec.columns = columns;
    spec.image_rows = image_rows;
    spec.image_cols = image_cols;
    r.prior_grid = image_grid(spec);
  }

  // The report's own numbers go to report.json: metrics.json stays what training wrote, so a
  // resumed run (which rewrites metrics.json) loses nothing of the report's, and nothing stale
  // of the report's lingers in metrics.json.
  nlohmann::ordered_json& own = r.report_metrics;
  own["epochs_done"] = r.epochs_done;
  if (r.conditional_accuracy >= 0) {
    own["conditional_sample_accuracy"] = r.conditional_accuracy;
    own["conditional_sample_accuracy_per_class"] = r.conditional_accuracy_per_class;
    own["conditional_samples_per_class"] = options.samples_per_class;
  }
  if (!r.cluster_majority_class.empty()) {
    double mean = 0;
    for (double s : r.cluster_majority_share) mean += s / r.cluster_majority_share.size();
    own["cluster_sample_purity"] = mean;
    own["cluster_sample_majority_class"] = r.cluster_majority_class;
  }
  if (classifier) own["sample_classifier_test_accuracy"] = r.classifier_accuracy;
  own["tsne_seconds"] = r.tsne_seconds;
  own["tsne_kl_divergence"] = r.tsne_kl;
  own["tsne_method"] = r.tsne_method;
  return r;
}

void write_run(RunReport& r, const ReportOptions& options) {
  const std::string figures = r.run_dir + "/figures";
  make_folder(figures);
  write_file_atomic(figures + "/tsne.png", encode_png(r.tsne_png));
  write_file_atomic(figures + "/tsne.svg", r.tsne_svg);
  if (r.conditional_grid.width > 0) write_file_atomic(figures + "/samples_conditional.png", encode_png(r.conditional_grid));
  if (r.cluster_grid.width > 0) write_file_atomic(figures + "/samples_clusters.png", encode_png(r.cluster_grid));
  if (r.reconstructions.width > 0) write_file_atomic(figures + "/reconstructions.png", encode_png(r.reconstructions));
  write_file_atomic(figures + "/samples_prior.png", encode_png(r.prior_grid));
  write_file_atomic(r.run_dir + "/report.json", r.report_metrics.dump(2) + "\n");
  r.html_path = r.run_dir + "/report.html";
  write_file_atomic(r.html_path, run_html(r, options));
}

// ---------------------------------------------------------------- several runs

std::vector<std::string> datasets_in(const std::vector<RunReport>& runs) {
  std::vector<std::string> out;
  for (const char* preferred : {"mnist", "fashion"})
    for (const RunReport& r : runs)
      if (r.config.dataset == preferred && std::find(out.begin(), out.end(), preferred) == out.end())
        out.push_back(preferred);
  for (const RunReport& r : runs)
    if (std::find(out.begin(), out.end(), r.config.dataset) == out.end()) out.push_back(r.config.dataset);
  return out;
}

std::vector<const RunReport*> runs_of(const std::vector<RunReport>& runs, const std::string& dataset) {
  std::vector<const RunReport*> out;
  for (const RunReport& r : runs)
    if (r.config.dataset == dataset) out.push_back(&r);
  std::stable_sort(out.begin(), out.end(), [](const RunReport* a, const RunReport* b) {
    if (method_rank(a->config.method) != method_rank(b->config.method))
      return method_rank(a->config.method) < method_rank(b->config.method);
    return a->config.seed < b->config.seed;
  });
  return out;
}

struct SamplingComparison {
  double cvae = 0, lambdahot = 0, classifier = 0;
  int cvae_runs = 0, lambdahot_runs = 0;
};

// How the runs a sampling verdict rests on (those with conditional samples) were trained unlike
// each other; empty when alike.
std::string sampling_runs_unlike(const std::vector<const RunReport*>& runs) {
  std::vector<Config> configs;
  for (const RunReport* r : runs)
    if (r->conditional_accuracy >= 0 && (r->config.method == Method::cvae || r->config.method == Method::lambdahot))
      configs.push_back(r->config);
  return training_differences(configs);
}

SamplingComparison compare_sampling(const std::vector<const RunReport*>& runs) {
  SamplingComparison s;
  int classifiers = 0;
  for (const RunReport* r : runs) {
    if (r->conditional_accuracy < 0) continue;
    if (r->config.method == Method::cvae) {
      s.cvae += r->conditional_accuracy;
      ++s.cvae_runs;
    } else if (r->config.method == Method::lambdahot) {  // the paper's claim: not movable's centres
      s.lambdahot += r->conditional_accuracy;
      ++s.lambdahot_runs;
    } else {
      continue;
    }
    s.classifier += r->classifier_accuracy;
    ++classifiers;
  }
  if (s.cvae_runs) s.cvae /= s.cvae_runs;
  if (s.lambdahot_runs) s.lambdahot /= s.lambdahot_runs;
  if (classifiers) s.classifier /= classifiers;
  return s;
}

// The comparison table's columns of numbers, each named and formatted by report/metric_labels.h.
const char* const kComparedMetrics[] = {"test_bce_sampled", "test_kl", "argmax_accuracy",
                                        "cluster_accuracy_hungarian", "nmi", "linear_probe_accuracy",
                                        "conditional_sample_accuracy", "tsne_seconds"};

// From metrics.json, else the report's own number of this run (report.json's).
std::string metric_cell(const RunReport& r, const std::string& key) {
  if (r.metrics.is_object() && r.metrics.contains(key) && r.metrics[key].is_number())
    return format_metric(key, r.metrics[key]);
  if (r.report_metrics.is_object() && r.report_metrics.contains(key) && r.report_metrics[key].is_number())
    return format_metric(key, r.report_metrics[key]);
  return "–";
}

}  // namespace

void check_run_folder(const std::string& run_dir) {
  const std::string dir = strip_slashes(run_dir);
  if (!is_folder(dir)) fail(dir + ": no such folder");
  if (!is_file(dir + "/config.json")) fail(dir + ": not a run folder (no config.json)");
  if (!is_file(dir + "/weights.safetensors")) fail(dir + ": not a run folder (no weights.safetensors)");
  // A CPU backend sets OpenMP's thread count; the check must not change what the report runs with.
  struct RestoreThreads {
    int threads = omp_get_max_threads();
    ~RestoreThreads() { omp_set_num_threads(threads); }
  } restore;
  std::unique_ptr<Backend> backend = make_backend("cpu", 1);
  LoadedRun run = load_run(*backend, dir);
  resolve_dataset_files(dataset_config(run.config));
}

RunReport report_run(const std::string& run_dir, const ReportOptions& options) {
  check_run_folder(run_dir);
  SharedState shared;
  RunReport r = compute_run(run_dir, options, shared);
  write_run(r, options);
  return r;
}

std::vector<std::string> sampling_verdicts(const std::vector<RunReport>& runs) {
  std::vector<std::string> out;
  for (const std::string& dataset : datasets_in(runs)) {
    SamplingComparison s = compare_sampling(runs_of(runs, dataset));
    if (!s.cvae_runs || !s.lambdahot_runs) continue;
    bool holds = s.lambdahot > s.cvae;
    const std::string unlike = sampling_runs_unlike(runs_of(runs, dataset));
    out.push_back(dataset_title(dataset) + ": \"Lambda-Hot samples a chosen class more reliably than CVAE\" " +
                  (!unlike.empty() ? "not comparable (the runs were trained unlike: " + unlike + ")"
                                   : holds ? "holds" : "does not hold") + " — " + percent(s.lambdahot) + " vs " +
                  percent(s.cvae) + " of samples in the intended class (mean over " +
                  std::to_string(s.lambdahot_runs) + " and " + std::to_string(s.cvae_runs) +
                  " runs; classifier test accuracy " + percent(s.classifier) + ")");
  }
  return out;
}

std::string write_comparison(const std::vector<RunReport>& runs, const std::string& out_dir,
                             const ReportOptions& options) {
  if (runs.empty()) fail("comparison: no runs");
  std::string h = page_start("clustervae: " + std::to_string(runs.size()) + " runs compared");
  h += "<h1>clustervae: " + std::to_string(runs.size()) + " runs compared</h1>\n<p class=\"sub\">written " +
       now_text() + " into <code>" + html_escape(out_dir) + "</code></p>\n";

  const std::vector<std::string> verdicts = sampling_verdicts(runs);
  if (!verdicts.empty()) {
    h += "<h2>Class-specific sampling, measured</h2>\n<p>The paper judges by eye that Lambda-Hot "
         "samples a chosen class better than the Conditional VAE. Here a classifier trained on the real "
         "training set labels " + std::to_string(options.samples_per_class) +
         " generated images per class; the conditional-sample accuracy (<code>conditional_sample_accuracy</code> "
         "in each run's report.json) is the fraction that lands in the intended class.</p>\n";
    for (const std::string& dataset : datasets_in(runs)) {
      SamplingComparison s = compare_sampling(runs_of(runs, dataset));
      if (!s.cvae_runs || !s.lambdahot_runs) continue;
      bool holds = s.lambdahot > s.cvae;
      const std::string unlike = sampling_runs_unlike(runs_of(runs, dataset));
      h += std::string("<p class=\"verdict") + (holds && unlike.empty() ? "" : " no") + "\"><b>" +
           html_escape(dataset_title(dataset)) + "</b>: Lambda-Hot " + percent(s.lambdahot) + " vs CVAE " +
           percent(s.cvae) + " — the claim <b>" +
           (!unlike.empty() ? "is not comparable" : holds ? "holds" : "does not hold") + "</b>" +
           (!unlike.empty() ? " (the runs were trained unlike: " + html_escape(unlike) + ")" : "") +
           " (classifier test accuracy " + percent(s.classifier) + ")</p>\n";
    }
  }

  for (const std::string& dataset : datasets_in(runs)) {
    std::vector<Config> configs;
    for (const RunReport* r : runs_of(runs, dataset)) configs.push_back(r->config);
    const std::string unlike = training_differences(configs);
    if (!unlike.empty())
      h += "<p class=\"verdict no\"><b>" + html_escape(dataset_title(dataset)) +
           "</b>: these runs were not trained alike (" + html_escape(unlike) +
           "): their numbers below are not comparable with each other.</p>\n";
  }
  h += "<h2>Metrics</h2>\n<table><tr><th>run</th><th>data set</th><th>method</th><th>seed</th>"
       "<th>arch</th><th>epochs</th><th>train / test limit</th><th>commit</th>";
  for (const char* key : kComparedMetrics) h += "<th>" + html_escape(metric_label(key).label) + "</th>";
  h += "</tr>\n";
  for (const std::string& dataset : datasets_in(runs))
    for (const RunReport* r : runs_of(runs, dataset)) {
      h += "<tr><td><code>" + html_escape(base_name(r->run_dir)) + "</code></td><td>" +
           html_escape(dataset_title(dataset)) + "</td><td>" + html_escape(method_title(r->config.method)) +
           "</td><td class=\"num\">" + std::to_string(r->config.seed) + "</td><td>" + html_escape(r->config.arch) +
           "</td><td class=\"num\">" + std::to_string(r->config.epochs) + "</td><td class=\"num\">" +
           (r->config.train_limit ? std::to_string(r->config.train_limit) : std::string("all")) + " / " +
           (r->config.test_limit ? std::to_string(r->config.test_limit) : std::string("all")) + "</td><td><code>" +
           html_escape(r->metrics.is_object() && r->metrics.contains("commit") && r->metrics["commit"].is_string()
                           ? r->metrics["commit"].get<std::string>() : std::string("–")) +
           "</code></td>";
      for (const char* key : kComparedMetrics) h += "<td class=\"num\">" + html_escape(metric_cell(*r, key)) + "</td>";
      h += "</tr>\n";
    }
  h += "</table>\n<p>Each run's own report (all figures, config, training curves) is "
       "<code>report.html</code> in its run folder.</p>\n";

  for (const std::string& dataset : datasets_in(runs)) {
    const std::vector<const RunReport*> group = runs_of(runs, dataset);
    h += "<h2>" + html_escape(dataset_title(dataset)) + "</h2>\n";
    // t-SNE panels side by side (the paper's Figures 2–3), one shared legend beside them (compose_panels_with_legend).
    std::vector<Raster> panels;
    std::set<Method> methods;
    bool several_seeds = false;
    for (const RunReport* r : group) several_seeds |= !methods.insert(r->config.method).second;
    for (const RunReport* r : group) {
      ScatterSpec spec = tsne_spec(*r, options.seed);
      spec.title = method_title(r->config.method) + (several_seeds ? ", seed " + std::to_string(r->config.seed) : "");
      spec.subtitle.clear();
      spec.plot_size = 420;
      spec.legend = false;
      panels.push_back(scatter_raster(spec));
    }
    std::vector<const Raster*> pointers;
    for (const Raster& p : panels) pointers.push_back(&p);
    const Raster legend = legend_raster(group.front()->class_names);
    Raster tsne_panels = compose_panels_with_legend(pointers, std::min<int>(3, static_cast<int>(pointers.size())), legend);
    write_file_atomic(out_dir + "/tsne_" + dataset + ".png", encode_png(tsne_panels));
    h += "<h3>Latent space</h3>\n<figure>" + png_img(tsne_panels, "t-SNE panels") +
         "<figcaption>t-SNE of μ of the test set, coloured by label, one panel per run (paper, Figures "
         "2–3). Also <code>tsne_" + html_escape(dataset) + ".png</code>.</figcaption></figure>\n";

    // CVAE against Lambda-Hot (Figures 4–5), the first seed of each.
    const RunReport* cvae_run = nullptr;
    const RunReport* lambdahot_run = nullptr;
    for (const RunReport* r : group) {
      if (r->config.method == Method::cvae && !cvae_run) cvae_run = r;
      if (r->config.method == Method::lambdahot && !lambdahot_run) lambdahot_run = r;
    }
    if (cvae_run && lambdahot_run) {
      Raster pair = compose_panels({&cvae_run->conditional_grid, &lambdahot_run->conditional_grid}, 2);
      write_file_atomic(out_dir + "/samples_" + dataset + "_cvae_vs_lambdahot.png", encode_png(pair));
      h += "<h3>Class-conditional samples: CVAE (left) and Lambda-Hot (right)</h3>\n<figure>" +
           png_img(pair, "CVAE and Lambda-Hot samples") +
           "<figcaption>One row per class; columns share ε (paper, Figures 4–5). Also <code>samples_" +
           html_escape(dataset) + "_cvae_vs_lambdahot.png</code>.</figcaption></figure>\n";
      h += "<table><tr><th>class</th><th>CVAE</th><th>Lambda-Hot</th><th>classifier on real test images</th></tr>\n";
      for (size_t c = 0; c < cvae_run->class_names.size(); ++c)
        h += "<tr><td>" + html_escape(cvae_run->class_names[c]) + "</td><td class=\"num\">" +
             percent(cvae_run->conditional_accuracy_per_class[c]) + "</td><td class=\"num\">" +
             percent(lambdahot_run->conditional_accuracy_per_class[c]) + "</td><td class=\"num\">" +
             percent(cvae_run->classifier_accuracy_per_class[c]) + "</td></tr>\n";
      h += "<tr><th>all</th><th class=\"num\">" + percent(cvae_run->conditional_accuracy) +
           "</th><th class=\"num\">" + percent(lambdahot_run->conditional_accuracy) + "</th><th class=\"num\">" +
           percent(cvae_run->classifier_accuracy) + "</th></tr>\n</table>\n";
    } else {
      for (const RunReport* r : group)
        if (r->conditional_grid.width > 0)
          h += "<figure>" + png_img(r->conditional_grid, "class-conditional samples") + "<figcaption>" +
               html_escape(conditional_caption(*r)) + "</figcaption></figure>\n";
    }
    for (const RunReport* r : group)
      if (r->cluster_grid.width > 0)
        h += "<h3>Samples around the k-means centres (" + html_escape(method_title(r->config.method)) +
             ", seed " + std::to_string(r->config.seed) + ")</h3>\n<figure>" +
             png_img(r->cluster_grid, "k-means centre samples") +
             "<figcaption>z ~ N(c_k, I), one row per centre, labelled with the classifier's majority class "
             "(paper, Figure 6).</figcaption></figure>\n";
    h += "<h3>Reconstructions</h3>\n<div class=\"row\">\n";
    for (const RunReport* r : group)
      if (r->reconstructions.width > 0)
        h += "<figure>" + png_img(r->reconstructions, "reconstructions") + "<figcaption>" +
             html_escape(method_title(r->config.method)) + ", seed " + std::to_string(r->config.seed) +
             "</figcaption></figure>\n";
    h += "</div>\n";
  }
  h += page_end();
  const std::string path = out_dir + "/compare.html";
  write_file_atomic(path, h);
  return path;
}

std::vector<RunReport> report_runs(const std::vector<std::string>& run_dirs,
                                   const ReportOptions& options, const std::string& compare_dir,
                                   std::string* compare_path) {
  if (run_dirs.empty()) fail("report: no run folders given");
  if (options.tsne_points < 0 || options.tsne_iterations < 1 || options.samples_per_class < 1 ||
      options.grid_columns < 1 || !(options.tsne_perplexity > 0))
    fail("report: tsne_points must be >= 0, tsne_iterations, samples_per_class, grid_columns and "
         "perplexity positive");
  // Every folder is checked before anything is computed or written.
  for (const std::string& dir : run_dirs) check_run_folder(dir);
  SharedState shared;
  std::vector<RunReport> reports;
  for (size_t i = 0; i < run_dirs.size(); ++i) {
    if (options.log)
      options.log("[" + std::to_string(i + 1) + "/" + std::to_string(run_dirs.size()) + "] " + strip_slashes(run_dirs[i]));
    RunReport r = compute_run(run_dirs[i], options, shared);
    write_run(r, options);
    reports.push_back(std::move(r));
  }
  if (compare_path) compare_path->clear();
  if (reports.size() >= 2) {
    std::string dir = compare_dir;
    if (dir.empty()) {
      std::string parent = parent_of(run_dirs.front());
      for (const std::string& d : run_dirs)
        if (parent_of(d) != parent) parent = ".";
      dir = make_run_folder(parent, "compare");
    } else {
      make_folder(dir);
    }
    std::string path = write_comparison(reports, dir, options);
    if (compare_path) *compare_path = path;
  }
  return reports;
}

}  // namespace cvae

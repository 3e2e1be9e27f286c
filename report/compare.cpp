#include "report/compare.h"

#include <algorithm>
#include <set>

#include "engine/error.h"
#include "engine/io/files.h"
#include "report/figures.h"
#include "report/html.h"
#include "report/metric_labels.h"
#include "report/png.h"
#include "report/run_page.h"
#include "report/table1.h"

namespace cvae {

namespace {


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

// How the runs a sampling verdict rests on (those with conditional samples) were trained unlike
// each other; empty when alike.
std::string sampling_runs_unlike(const std::vector<const RunReport*>& runs) {
  std::vector<Config> configs;
  for (const RunReport* r : runs)
    if (r->conditional_accuracy && (r->config.method == Method::cvae || r->config.method == Method::lambdahot))
      configs.push_back(r->config);
  return training_differences(configs);
}

SamplingVerdict compare_sampling(const std::string& dataset, const std::vector<const RunReport*>& runs) {
  SamplingVerdict s;
  s.dataset = dataset;
  int classifiers = 0;
  for (const RunReport* r : runs) {
    if (!r->conditional_accuracy) continue;
    if (r->config.method == Method::cvae) {
      s.cvae += *r->conditional_accuracy;
      ++s.cvae_runs;
    } else if (r->config.method == Method::lambdahot) {  // the paper's claim: not movable's centres
      s.lambdahot += *r->conditional_accuracy;
      ++s.lambdahot_runs;
    } else {
      continue;
    }
    s.classifier += *r->classifier_accuracy;
    ++classifiers;
  }
  if (s.cvae_runs) s.cvae /= s.cvae_runs;
  if (s.lambdahot_runs) s.lambdahot /= s.lambdahot_runs;
  if (classifiers) s.classifier /= classifiers;
  s.unlike = sampling_runs_unlike(runs);
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

std::vector<SamplingVerdict> sampling_comparisons(const std::vector<RunReport>& runs) {
  std::vector<SamplingVerdict> out;
  for (const std::string& dataset : datasets_in(runs)) {
    SamplingVerdict s = compare_sampling(dataset, runs_of(runs, dataset));
    if (s.cvae_runs && s.lambdahot_runs) out.push_back(s);
  }
  return out;
}

std::vector<std::string> sampling_verdicts(const std::vector<RunReport>& runs) {
  std::vector<std::string> out;
  for (const SamplingVerdict& s : sampling_comparisons(runs))
    out.push_back(dataset_title(s.dataset) + ": \"Lambda-Hot samples a chosen class more reliably than CVAE\" " +
                  (!s.comparable() ? "not comparable (the runs were trained unlike: " + s.unlike + ")"
                                   : s.holds() ? "holds" : "does not hold") + " — " + percent_text(s.lambdahot) +
                  " vs " + percent_text(s.cvae) + " of samples in the intended class (mean over " +
                  std::to_string(s.lambdahot_runs) + " and " + std::to_string(s.cvae_runs) +
                  " runs; classifier test accuracy " + percent_text(s.classifier) + ")");
  return out;
}

std::string write_comparison(const std::vector<RunReport>& runs, const std::string& out_dir,
                             const ReportOptions& options) {
  if (runs.empty()) fail("comparison: no runs");
  std::string h = page_start("clustervae: " + std::to_string(runs.size()) + " runs compared");
  h += "<h1>clustervae: " + std::to_string(runs.size()) + " runs compared</h1>\n<p class=\"sub\">written " +
       local_time_text("%Y-%m-%d %H:%M:%S") + " into <code>" + html_escape(out_dir) + "</code></p>\n";

  const std::vector<SamplingVerdict> comparisons = sampling_comparisons(runs);
  if (!comparisons.empty()) {
    h += "<h2>Class-specific sampling, measured</h2>\n<p>The paper judges by eye that Lambda-Hot "
         "samples a chosen class better than the Conditional VAE. Here a classifier trained on the real "
         "training set labels " + std::to_string(options.samples_per_class) +
         " generated images per class; the conditional-sample accuracy (<code>conditional_sample_accuracy</code> "
         "in each run's report.json) is the fraction that lands in the intended class.</p>\n";
    for (const SamplingVerdict& s : comparisons)
      h += std::string("<p class=\"verdict") + (s.holds() ? "" : " no") + "\"><b>" +
           html_escape(dataset_title(s.dataset)) + "</b>: Lambda-Hot " + percent_text(s.lambdahot) + " vs CVAE " +
           percent_text(s.cvae) + " — the claim <b>" +
           (!s.comparable() ? "is not comparable" : s.holds() ? "holds" : "does not hold") + "</b>" +
           (!s.comparable() ? " (the runs were trained unlike: " + html_escape(s.unlike) + ")" : "") +
           " (classifier test accuracy " + percent_text(s.classifier) + ")</p>\n";
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
             percent_text(cvae_run->conditional_accuracy_per_class[c]) + "</td><td class=\"num\">" +
             percent_text(lambdahot_run->conditional_accuracy_per_class[c]) + "</td><td class=\"num\">" +
             percent_text(cvae_run->classifier_accuracy_per_class[c]) + "</td></tr>\n";
      h += "<tr><th>all</th><th class=\"num\">" + percent_text(cvae_run->conditional_accuracy) +
           "</th><th class=\"num\">" + percent_text(lambdahot_run->conditional_accuracy) + "</th><th class=\"num\">" +
           percent_text(cvae_run->classifier_accuracy) + "</th></tr>\n</table>\n";
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

}  // namespace cvae

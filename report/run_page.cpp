#include "report/run_page.h"

#include <cstdio>

#include "engine/io/files.h"
#include "engine/io/svg.h"
#include "report/figures.h"
#include "report/html.h"
#include "report/metric_labels.h"

namespace cvae {

namespace {

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

std::string accuracy_table(const RunReport& r) {
  std::string html = "<table><tr><th>class</th><th>conditional samples in the intended class</th>"
                     "<th>classifier on real test images</th></tr>\n";
  for (size_t c = 0; c < r.class_names.size(); ++c) {
    html += "<tr><td>" + html_escape(r.class_names[c]) + "</td><td class=\"num\">" +
            (c < r.conditional_accuracy_per_class.size() ? percent_text(r.conditional_accuracy_per_class[c]) : "–") +
            "</td><td class=\"num\">" +
            (c < r.classifier_accuracy_per_class.size() ? percent_text(r.classifier_accuracy_per_class[c]) : "–") +
            "</td></tr>\n";
  }
  html += "<tr><th>all</th><th class=\"num\">" + percent_text(r.conditional_accuracy) + "</th><th class=\"num\">" +
          percent_text(r.classifier_accuracy) + "</th></tr>\n</table>\n";
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

}  // namespace

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

std::string run_html(const RunReport& r, const ReportOptions& options) {
  std::string h = page_start(r.title);
  h += "<h1>" + html_escape(r.title) + "</h1>\n<p class=\"sub\">run folder <code>" +
       html_escape(r.run_dir) + "</code> · " + std::to_string(r.epochs_done) + " of " +
       std::to_string(r.config.epochs) + " epochs · report written " + local_time_text("%Y-%m-%d %H:%M:%S") + "</p>\n";

  // Key numbers first.
  h += "<ul class=\"key\">\n";
  if (r.metrics.is_object() && r.metrics.contains("test_bce_sampled") && r.metrics["test_bce_sampled"].is_number())
    h += "<li>" + html_escape(metric_label("test_bce_sampled").label) + ", the paper's Table 1 figure: <b>" +
         format_metric("test_bce_sampled", r.metrics["test_bce_sampled"]) + "</b></li>\n";
  if (r.conditional_accuracy)
    h += "<li>" + html_escape(metric_label("conditional_sample_accuracy").label) + ": <b>" +
         format_metric("conditional_sample_accuracy", *r.conditional_accuracy) + "</b> of " +
         std::to_string(options.samples_per_class) +
         " generated images per class land in the intended class, judged by a classifier whose own "
         "test accuracy is " + percent_text(r.classifier_accuracy) + "</li>\n";
  if (r.cluster_sample_purity)
    h += "<li>samples around a k-means centre share the centre's majority class (by the classifier): <b>" +
         percent_text(*r.cluster_sample_purity) + "</b> on average</li>\n";
  h += "<li>t-SNE of " + std::to_string(r.tsne_labels.size()) + " test points: " +
       fixed_text(r.tsne_seconds, 1) + " s, KL(P‖Q) = " + fixed_text(r.tsne_kl, 3) + "</li>\n</ul>\n";
  if (!r.metrics_file)
    h += "<p>This run folder has no metrics.json (the run has not finished, or ran with "
         "evaluate=false): the numbers above are shown here only.</p>\n";

  h += "<h2>Training</h2>\n" + curves_for(r);

  h += "<h2>Latent space</h2>\n<figure>" + png_img(r.tsne_png, "t-SNE of the test set's mu") +
       "<figcaption>t-SNE (" + r.tsne_method + ", perplexity " + fixed_text(options.tsne_perplexity, 0) + ", " +
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
    // Inline in HTML the SVG element goes without the file's XML declaration.
    std::string svg = read_file(heat_map);
    if (svg.rfind("<?xml", 0) == 0) svg.erase(0, svg.find('\n') + 1);
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

}  // namespace cvae

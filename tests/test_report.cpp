// The run report end to end on small trained runs (a synthetic data set, so the tests need no
// downloads): every figure and report.html are written, report.json holds the classifier's
// numbers and metrics.json is left alone, the HTML is well-formed and self-contained, several runs give a
// comparison page, bad folders fail before anything is written — and headless Chromium renders
// the page (skipped, with a warning, where Chromium is not installed).
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/io/files.h"
#include "report/png.h"
#include "report/report.h"
#include "tests/test_helpers.h"
#include "tests/test_report_helpers.h"

using namespace cvae;

namespace {

ReportOptions small_options(const std::string& cache) {
  ReportOptions o;
  o.device = "cpu";
  o.tsne_iterations = 250;
  o.samples_per_class = 50;
  o.grid_columns = 6;
  o.classifier.hidden = 32;
  o.classifier.epochs = 3;
  o.classifier.batch_size = 32;
  o.cache_dir = cache;
  return o;
}

// One trained run per method, shared by the tests of this file (training takes a few seconds).
struct Fixture {
  test::ScratchDir dir;
  test::SyntheticData data;
  std::string lambdahot, cvae, kmeans, movable;
  Fixture() {
    data = test::write_synthetic_data(dir.path);
    lambdahot = test::train_synthetic_run(data, Method::lambdahot, dir.path + "/runs");
    cvae = test::train_synthetic_run(data, Method::cvae, dir.path + "/runs");
    kmeans = test::train_synthetic_run(data, Method::kmeans, dir.path + "/runs");
    movable = test::train_synthetic_run(data, Method::movable, dir.path + "/runs");
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

// A copy of a run folder (tests write into it).
std::string copy_run(const std::string& run, const std::string& to) {
  std::string target = to + "/" + base_name(run);
  std::system(("mkdir -p '" + to + "' && cp -r '" + run + "' '" + to + "/'").c_str());
  return target;
}

std::string find_chromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    std::string command = std::string("command -v ") + name + " > /dev/null 2>&1";
    if (std::system(command.c_str()) == 0) return name;
  }
  return "";
}

}  // namespace

TEST_CASE("a run's report writes every figure, report.html and the classifier's numbers", "[report]") {
  Fixture& f = fixture();
  test::ScratchDir work;
  const std::string run = copy_run(f.lambdahot, work.path);
  nlohmann::json before = nlohmann::json::parse(read_file(run + "/metrics.json"));
  RunReport r = report_run(run, small_options(work.path));

  for (const char* file : {"figures/tsne.png", "figures/tsne.svg", "figures/samples_conditional.png",
                           "figures/reconstructions.png", "figures/samples_prior.png", "report.html"})
    REQUIRE(path_exists(run + "/" + file));
  REQUIRE_FALSE(path_exists(run + "/figures/samples_clusters.png"));  // lambdahot has no centres
  Raster tsne = decode_png(read_file(run + "/figures/tsne.png"), "tsne.png");
  REQUIRE(tsne.width == r.tsne_png.width);
  REQUIRE(test::markup_problem(read_file(run + "/figures/tsne.svg"), false) == "");

  // metrics.json is left as training wrote it; the report's numbers are in report.json
  REQUIRE(nlohmann::json::parse(read_file(run + "/metrics.json")) == before);
  nlohmann::json after = nlohmann::json::parse(read_file(run + "/report.json"));
  REQUIRE(after["conditional_sample_accuracy"].is_number());
  REQUIRE(after["tsne_method"].is_string());
  REQUIRE(after["epochs_done"] == before["epoch_seconds"].size());
  double accuracy = after["conditional_sample_accuracy"].get<double>();
  REQUIRE(accuracy >= 0.0);
  REQUIRE(accuracy <= 1.0);
  REQUIRE(after["conditional_sample_accuracy_per_class"].size() == 3);
  double mean = 0;
  for (const auto& v : after["conditional_sample_accuracy_per_class"]) mean += v.get<double>() / 3;
  REQUIRE(mean == Approx(accuracy));  // equal samples per class: overall = mean of the classes
  REQUIRE(after["sample_classifier_test_accuracy"].get<double>() >= 0.9);
  REQUIRE(after["conditional_samples_per_class"] == 50);
  REQUIRE(r.tsne_labels.size() == 120);
  // the class centres' heat map, with its colour scale, is in the page
  const std::string html = read_file(run + "/report.html");
  REQUIRE_THAT(html, Catch::Contains("Distances between the class centres") && Catch::Contains(">distance</text>"));
  REQUIRE(test::markup_problem(html, true) == "");
}

TEST_CASE("a movable run's report names its method and draws its prior around the learnt centres", "[report]") {
  Fixture& f = fixture();
  test::ScratchDir work;
  RunReport r = report_run(copy_run(f.movable, work.path), small_options(work.path));
  REQUIRE_THAT(r.title, Catch::StartsWith("Movable Lambda-Hot VAE"));
  REQUIRE(r.conditional_grid.width > 0);  // movable has a class-conditional sampler
  const std::string html = read_file(r.html_path);
  // the random prior samples come from the mixture over the class centres, not N(0, I)
  REQUIRE_THAT(html, Catch::Contains("Random samples of the method's prior (mixture of N(c_y, I)"));
  REQUIRE_THAT(html, !Catch::Contains("Random samples of the method's prior (z ~ N(0, I))"));
  REQUIRE_THAT(html, Catch::Contains("z ~ N(c_y, I) around its learnt class centre"));
}

TEST_CASE("report.html is well-formed, self-contained HTML", "[report]") {
  Fixture& f = fixture();
  test::ScratchDir work;
  for (const std::string& source : {f.cvae, f.kmeans}) {
    const std::string run = copy_run(source, work.path);
    report_run(run, small_options(work.path));
    const std::string html = read_file(run + "/report.html");
    REQUIRE(html.rfind("<!DOCTYPE html>", 0) == 0);
    REQUIRE(test::markup_problem(html, true) == "");
    REQUIRE(test::external_reference(html) == "");
    REQUIRE(html.find("<img src=\"data:image/png;base64,") != std::string::npos);
    REQUIRE(html.find("<svg") != std::string::npos);  // the training curves
    REQUIRE(html.find("test_bce_sampled") != std::string::npos);
    // Metrics under readable names, the key beside for finding it in metrics.json.
    REQUIRE_THAT(html, Catch::Contains("<td>Test BCE (sampled z)</td>") && Catch::Contains("<td>NMI</td>") &&
                           Catch::Contains("<code>test_bce_sampled</code>"));
    REQUIRE_THAT(html, !Catch::Contains("conditional_sample_accuracy:"));
  }
  // A run without metrics.json and log.jsonl (evaluate=false, or still running): a report all the
  // same, and no metrics.json is made.
  const std::string bare = copy_run(f.lambdahot, work.path + "/bare");
  std::remove((bare + "/metrics.json").c_str());
  std::remove((bare + "/log.jsonl").c_str());
  RunReport r = report_run(bare, small_options(work.path));
  REQUIRE_FALSE(r.metrics_file);
  REQUIRE_FALSE(path_exists(bare + "/metrics.json"));
  const std::string bare_html = read_file(bare + "/report.html");
  REQUIRE(test::markup_problem(bare_html, true) == "");
  REQUIRE_THAT(bare_html, Catch::Contains("no metrics.json") && Catch::Contains("no epochs logged"));

  // The K-Means VAE's report has its centre samples, and report.json their purity.
  const std::string kmeans = work.path + "/" + base_name(f.kmeans);
  REQUIRE(path_exists(kmeans + "/figures/samples_clusters.png"));
  nlohmann::json metrics = nlohmann::json::parse(read_file(kmeans + "/report.json"));
  REQUIRE(metrics["cluster_sample_majority_class"].size() == 4);
  REQUIRE_FALSE(metrics.contains("conditional_sample_accuracy"));
}

TEST_CASE("several runs give a self-contained comparison page with a sampling verdict", "[report]") {
  Fixture& f = fixture();
  test::ScratchDir work;
  std::vector<std::string> runs = {copy_run(f.cvae, work.path + "/runs"), copy_run(f.lambdahot, work.path + "/runs")};
  std::string compare;
  std::vector<RunReport> reports = report_runs(runs, small_options(work.path), work.path + "/cmp", &compare);
  REQUIRE(reports.size() == 2);
  REQUIRE(compare == work.path + "/cmp/compare.html");
  const std::string html = read_file(compare);
  REQUIRE(test::markup_problem(html, true) == "");
  REQUIRE(test::external_reference(html) == "");
  REQUIRE(path_exists(work.path + "/cmp/tsne_custom.png"));
  REQUIRE(path_exists(work.path + "/cmp/samples_custom_cvae_vs_lambdahot.png"));
  std::vector<std::string> verdicts = sampling_verdicts(reports);
  REQUIRE(verdicts.size() == 1);
  REQUIRE_THAT(verdicts[0], Catch::Contains("Lambda-Hot") && Catch::Contains("CVAE"));
  REQUIRE_THAT(html, Catch::Contains("conditional_sample_accuracy"));

  REQUIRE_THAT(html, !Catch::Contains("not trained alike"));
  REQUIRE_THAT(html, Catch::Contains("<th>epochs</th>") && Catch::Contains("<th>commit</th>"));
  REQUIRE_THAT(html, Catch::Contains("<th>Cluster accuracy (Hungarian)</th>") &&
                         Catch::Contains("<th>Linear-probe accuracy</th>") && Catch::Contains("<th>t-SNE time</th>"));
  // The comparison's percentages with one decimal: the CVAE's linear probe, as its metrics.json has it.
  const double probe = reports[0].metrics["linear_probe_accuracy"].get<double>();
  char cell[32];
  std::snprintf(cell, sizeof cell, "<td class=\"num\">%.1f%%</td>", 100 * probe);
  REQUIRE_THAT(html, Catch::Contains(cell));

  // Without a folder named, a new compare-<time> folder next to the runs.
  std::string second;
  report_runs(runs, small_options(work.path), "", &second);
  REQUIRE_THAT(second, Catch::StartsWith(work.path + "/runs/compare-"));

  // Runs trained unlike (here: the Lambda-Hot run says it had more epochs) are marked, and the
  // sampling claim between them is not judged.
  const std::string config_path = runs[1] + "/config.json";
  nlohmann::json config = nlohmann::json::parse(read_file(config_path));
  const int epochs = config["epochs"].get<int>();
  config["epochs"] = epochs + 7;
  write_file_atomic(config_path, config.dump(2));
  std::string third;
  reports = report_runs(runs, small_options(work.path), work.path + "/cmp-unlike", &third);
  const std::string unlike = read_file(third);
  REQUIRE_THAT(unlike, Catch::Contains("these runs were not trained alike (epochs " + std::to_string(epochs) + ", " +
                                       std::to_string(epochs + 7) + ")"));
  REQUIRE_THAT(unlike, Catch::Contains("is not comparable"));
  verdicts = sampling_verdicts(reports);
  REQUIRE(verdicts.size() == 1);
  REQUIRE_THAT(verdicts[0], Catch::Contains("not comparable (the runs were trained unlike: epochs"));
}

TEST_CASE("bad run folders fail with their name before anything is written", "[report]") {
  Fixture& f = fixture();
  test::ScratchDir work;
  const std::string good = copy_run(f.lambdahot, work.path);
  const std::string metrics = read_file(good + "/metrics.json");
  ReportOptions options = small_options(work.path);
  REQUIRE_THROWS_WITH(report_runs({good, work.path + "/missing"}, options, "", nullptr),
                      Catch::Contains(work.path + "/missing: no such folder"));
  std::system(("mkdir -p '" + work.path + "/empty'").c_str());
  REQUIRE_THROWS_WITH(report_runs({good, work.path + "/empty"}, options, "", nullptr),
                      Catch::Contains("empty: not a run folder"));
  // A run folder whose weights do not fit its config.
  const std::string broken = work.path + "/broken";
  std::system(("cp -r '" + good + "' '" + broken + "'").c_str());
  write_file_atomic(broken + "/weights.safetensors", "not safetensors");
  REQUIRE_THROWS_WITH(report_runs({good, broken}, options, "", nullptr), Catch::Contains("broken/weights.safetensors"));
  REQUIRE_FALSE(path_exists(good + "/report.html"));
  REQUIRE_FALSE(path_exists(good + "/figures"));
  REQUIRE(read_file(good + "/metrics.json") == metrics);
}

TEST_CASE("clustervae-report exits 2 with one line for a missing folder", "[report]") {
  std::string train_bin = CLUSTERVAE_TRAIN_BIN;
  std::string report_bin = train_bin.substr(0, train_bin.rfind("clustervae-train")) + "clustervae-report";
  if (!path_exists(report_bin)) {
    WARN("clustervae-report is not built (" << report_bin << "); skipped");
    return;
  }
  test::ScratchDir work;
  std::string err = work.path + "/err.txt";
  int status = std::system((report_bin + " " + work.path + "/nothing-here > /dev/null 2> " + err).c_str());
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 2);
  std::string text = read_file(err);
  REQUIRE(text == "clustervae-report: " + work.path + "/nothing-here: no such folder\n");
  status = std::system((report_bin + " > /dev/null 2> " + err).c_str());
  REQUIRE(WEXITSTATUS(status) == 2);
  REQUIRE_THAT(read_file(err), Catch::Contains("usage: clustervae-report"));
  status = std::system((report_bin + " " + work.path + " bogus=1 > /dev/null 2> " + err).c_str());
  REQUIRE(WEXITSTATUS(status) == 2);
  REQUIRE_THAT(read_file(err), Catch::Contains("unknown argument 'bogus'"));
}

TEST_CASE("headless Chromium renders report.html to a non-blank page", "[report]") {
  const std::string chromium = find_chromium();
  if (chromium.empty()) {
    WARN("chromium is not installed (scripts/setup.sh installs it): the rendering check is skipped");
    return;
  }
  Fixture& f = fixture();
  test::ScratchDir work;
  const std::string run = copy_run(f.lambdahot, work.path);
  report_run(run, small_options(work.path));
  const std::string shot = work.path + "/shot.png";
  const std::string command =
      "timeout 120 " + chromium +
      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
      " --disable-background-networking --disable-component-update --disable-sync"
      " --user-data-dir='" + work.path + "/profile' --screenshot='" + shot +
      "' --window-size=1200,2000 'file://" + run + "/report.html' > '" + work.path + "/chromium.log' 2>&1";
  int status = std::system(command.c_str());
  INFO("chromium log: " << (path_exists(work.path + "/chromium.log") ? read_file(work.path + "/chromium.log") : ""));
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(path_exists(shot));
  Raster page = decode_png(read_file(shot), shot);
  REQUIRE(page.width == 1200);
  REQUIRE(page.height == 2000);
  // Non-blank: a good share of ink, many colours (text, the t-SNE palette, grey images).
  size_t ink = 0;
  std::set<uint32_t> colours;
  for (size_t i = 0; i < page.rgb.size(); i += 3) {
    uint32_t c = (page.rgb[i] << 16) | (page.rgb[i + 1] << 8) | page.rgb[i + 2];
    if (c != 0xFFFFFF) ++ink;
    if (colours.size() < 5000) colours.insert(c);
  }
  REQUIRE(static_cast<double>(ink) / (page.width * page.height) > 0.03);
  REQUIRE(colours.size() > 100);
}

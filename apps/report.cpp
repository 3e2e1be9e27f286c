// clustervae-report RUN_DIR [RUN_DIR ...] [out=DIR] [key=value ...]
// Writes each run's figures (figures/*.png, figures/tsne.svg), report.html and the classifier's
// numbers (metrics.json) into its folder; for two or more runs also a comparison page,
// compare.html, with composite figures, into out=DIR (default: a new folder compare-<time> next
// to the runs). Bad input: one line on stderr naming the thing, exit 2, nothing written.
#include <iostream>
#include <string>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/error.h"
#include "report/report.h"

namespace {

const char* kUsage =
    "usage: clustervae-report RUN_DIR [RUN_DIR ...] [out=DIR] [seed=1] [device=auto|cpu|cuda|cuda:N]\n"
    "                         [threads=0] [tsne_points=10000] [tsne_iterations=1000]\n"
    "                         [perplexity=30] [samples_per_class=1000] [grid_columns=10]\n"
    "                         [classifier_epochs=3] [cache=DIR|none]\n";

long long parse_integer(const std::string& key, const std::string& value, long long lo) {
  char* end = nullptr;
  long long v = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || v < lo)
    cvae::fail("argument " + key + "=" + value + ": expected an integer >= " + std::to_string(lo));
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> run_dirs;
  cvae::ReportOptions options;
  std::string out;
  options.log = [](const std::string& line) { std::cerr << line << "\n"; };
  try {
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == "-h" || arg == "--help") {
        std::cout << kUsage;
        return 0;
      }
      auto eq = arg.find('=');
      if (eq == std::string::npos) {
        run_dirs.push_back(arg);
        continue;
      }
      std::string key = arg.substr(0, eq), value = arg.substr(eq + 1);
      if (key == "out") out = value;
      else if (key == "seed") options.seed = static_cast<uint64_t>(parse_integer(key, value, 0));
      else if (key == "device") options.device = value;
      else if (key == "threads") options.threads = static_cast<int>(parse_integer(key, value, 0));
      else if (key == "tsne_points") options.tsne_points = static_cast<int>(parse_integer(key, value, 0));
      else if (key == "tsne_iterations") options.tsne_iterations = static_cast<int>(parse_integer(key, value, 1));
      else if (key == "perplexity") {
        char* end = nullptr;
        options.tsne_perplexity = std::strtod(value.c_str(), &end);
        if (value.empty() || *end != '\0' || !(options.tsne_perplexity > 0))
          cvae::fail("argument perplexity=" + value + ": expected a positive number");
      }
      else if (key == "samples_per_class") options.samples_per_class = static_cast<int>(parse_integer(key, value, 1));
      else if (key == "grid_columns") options.grid_columns = static_cast<int>(parse_integer(key, value, 1));
      else if (key == "classifier_epochs") options.classifier.epochs = static_cast<int>(parse_integer(key, value, 1));
      else if (key == "cache") options.cache_dir = value;
      else cvae::fail("unknown argument '" + key + "' (clustervae-report --help lists them)");
    }
    if (!cvae::is_device_name(options.device))
      cvae::fail("argument device=" + options.device + ": expected auto, cpu, cuda or cuda:N");
    if (run_dirs.empty()) {
      std::cerr << kUsage;
      return 2;
    }
    std::string compare;
    std::vector<cvae::RunReport> reports = cvae::report_runs(run_dirs, options, out, &compare);
    for (const cvae::RunReport& r : reports) {
      std::cout << r.html_path;
      if (r.conditional_accuracy)
        std::cout << "  conditional_sample_accuracy " << *r.conditional_accuracy << " (classifier test accuracy "
                  << *r.classifier_accuracy << ")";
      std::cout << "  t-SNE " << r.tsne_seconds << " s\n";
    }
    for (const std::string& line : cvae::sampling_verdicts(reports)) std::cout << line << "\n";
    if (!compare.empty()) std::cout << "comparison: " << compare << "\n";
    return 0;
  } catch (const cvae::Error& e) {
    std::cerr << "clustervae-report: " << e.what() << "\n";
    return 2;
  }
}

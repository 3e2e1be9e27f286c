// The comparison page of several runs' reports, and the one claim it judges itself: the paper
// says by eye that Lambda-Hot samples a chosen class better than the Conditional VAE; here the
// claim is the two methods' conditional_sample_accuracy (mean over their runs) set side by side.
// A verdict is given only where the runs it rests on were trained alike.
#pragma once
#include <string>
#include <vector>

#include "report/run_report.h"

namespace cvae {

struct SamplingVerdict {
  std::string dataset;
  double lambdahot = 0, cvae = 0;  // mean conditional_sample_accuracy over the method's runs
  int lambdahot_runs = 0, cvae_runs = 0;
  double classifier = 0;           // the judging classifier's mean test accuracy
  std::string unlike;              // how the runs were trained unlike each other ("" = alike)
  bool comparable() const { return unlike.empty(); }
  bool holds() const { return comparable() && lambdahot > cvae; }
};

// One verdict per data set that has runs of both methods with conditional samples.
std::vector<SamplingVerdict> sampling_comparisons(const std::vector<RunReport>& runs);

// The verdicts as plain text lines (what the apps print).
std::vector<std::string> sampling_verdicts(const std::vector<RunReport>& runs);

// The comparison page, written as <out_dir>/compare.html with the composite figures beside it
// (tsne_<dataset>.png, samples_<dataset>_cvae_vs_lambdahot.png). Returns the page's path.
std::string write_comparison(const std::vector<RunReport>& runs, const std::string& out_dir,
                             const ReportOptions& options);

}  // namespace cvae

// The run report: for each run folder, the paper's figures and a self-contained report.html;
// for several runs, a comparison page that puts them side by side.
//
// report/run_report.h computes one run's figures and numbers, report/run_page.h lays out its
// page, report/compare.h the comparison page. Here: the files a report writes, and the command.
// A run folder receives figures/{tsne.png,tsne.svg,samples_conditional.png,samples_clusters.png,
// reconstructions.png,samples_prior.png}, report.json (the report's own numbers) and report.html
// (config, training curves from log.jsonl, metrics and every figure, images embedded as data:
// URIs: no network and no files beside it needed). Every file is written atomically, after
// everything is computed; report.html goes last. metrics.json is never changed.
#pragma once
#include <string>
#include <vector>

#include "report/compare.h"
#include "report/run_report.h"

namespace cvae {

// Checks that a folder can be reported on — it exists, config.json and weights.safetensors read
// and agree, the data set's files exist — without writing anything. Throws Error naming it.
void check_run_folder(const std::string& run_dir);

// Writes what compute_run computed into the run folder (above); sets r.html_path.
void write_run(RunReport& r, const ReportOptions& options);

// Computes and writes one run's report. Returns what it showed.
RunReport report_run(const std::string& run_dir, const ReportOptions& options);

// The whole command: checks every folder first (nothing is written if one is bad), writes each
// run's report, then — for two or more runs — the comparison page into compare_dir (made if
// missing; "" = a new folder compare-<time> in the runs' common parent). Returns the reports;
// *compare_path receives the page's path (empty for a single run).
std::vector<RunReport> report_runs(const std::vector<std::string>& run_dirs,
                                   const ReportOptions& options, const std::string& compare_dir,
                                   std::string* compare_path);

}  // namespace cvae

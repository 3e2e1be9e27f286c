#include "report/report.h"

#include <omp.h>

#include <memory>

#include "engine/backend/backend.h"
#include "engine/error.h"
#include "engine/io/files.h"
#include "engine/train/checkpoint.h"
#include "report/png.h"
#include "report/run_page.h"

namespace cvae {

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
  resolve_dataset_files(report_dataset_config(run.config));
}

RunReport report_run(const std::string& run_dir, const ReportOptions& options) {
  check_run_folder(run_dir);
  ReportCache cache;
  RunReport r = compute_run(run_dir, options, cache);
  write_run(r, options);
  return r;
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
  ReportCache cache;
  std::vector<RunReport> reports;
  for (size_t i = 0; i < run_dirs.size(); ++i) {
    if (options.log)
      options.log("[" + std::to_string(i + 1) + "/" + std::to_string(run_dirs.size()) + "] " + strip_slashes(run_dirs[i]));
    RunReport r = compute_run(run_dirs[i], options, cache);
    write_run(r, options);
    reports.push_back(std::move(r));
  }
  if (compare_path) compare_path->clear();
  if (reports.size() >= 2) {
    std::string dir = compare_dir;
    if (dir.empty()) {
      std::string parent = parent_folder(run_dirs.front());
      for (const std::string& d : run_dirs)
        if (parent_folder(d) != parent) parent = ".";
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

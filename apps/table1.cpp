// clustervae-table1 [seeds=1,2,3] [datasets=mnist,fashion] [methods=vae,...] [configs=DIR]
//                   [arch=mlp|conv] [report=true] [key=value ...]
// Runs the paper's grid with configs/<dataset>_<method>.json (arch=conv:
// configs/<dataset>_<method>_conv.json), plus the key=value overrides for every run, then writes table1.json and table1.md into <out>/table1-<time>/ and prints the table.
// With report=true it then writes every run's report (report/report.h) and the comparison page
// of the grid, compare.html, into the same table1 folder.
#include <algorithm>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/error.h"
#include "engine/interrupt.h"
#include "engine/io/files.h"
#include "engine/suggest.h"
#include "engine/train/experiment.h"
#include "report/report.h"
#include "report/table1.h"

namespace {

std::vector<std::string> split_list(const std::string& text, const std::string& key) {
  std::vector<std::string> out;
  std::stringstream parts(text);
  std::string part;
  while (std::getline(parts, part, ','))
    if (!part.empty()) out.push_back(part);
  if (out.empty()) cvae::fail("argument " + key + "=: empty list");
  return out;
}

// Each name of a list must be one of `known` (the configs a grid can name): else one line with the
// list and the closest name.
void require_known(const std::vector<std::string>& names, const std::vector<std::string>& known,
                   const std::string& key) {
  std::string list;
  for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
  for (const std::string& name : names)
    if (std::find(known.begin(), known.end(), name) == known.end())
      cvae::fail("argument " + key + "=: '" + name + "' is not one of " + list + cvae::did_you_mean(name, known));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> datasets = {"mnist", "fashion"};
  std::vector<cvae::Method> methods;  // default: the paper's five
  for (cvae::Method m : cvae::all_methods())
    if (cvae::traits(m).in_paper) methods.push_back(m);
  std::vector<uint64_t> seeds = {1};
  std::string configs = "configs";
  std::string arch = "mlp";
  bool report = false;
  std::vector<std::string> overrides;
  cvae::install_stop_handler();
  try {
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == "-h" || arg == "--help") {
        std::cout << "usage: clustervae-table1 [seeds=1,2,3] [datasets=mnist,fashion] "
                     "[methods=vae,beta,cvae,lambdahot,kmeans] [configs=DIR] [arch=mlp|conv] "
                     "[report=true] "
                     "[key=value ...]\n";
        return 0;
      }
      auto eq = arg.find('=');
      std::string key = eq == std::string::npos ? arg : arg.substr(0, eq);
      std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
      if (key == "seeds") {
        seeds.clear();
        for (const std::string& s : split_list(value, key)) {
          char* end = nullptr;
          unsigned long long v = std::strtoull(s.c_str(), &end, 10);
          if (*end != '\0' || s[0] == '-') cvae::fail("argument seeds=: '" + s + "' is not a seed");
          seeds.push_back(v);
        }
      } else if (key == "datasets") {
        datasets = split_list(value, key);
        require_known(datasets, {"mnist", "fashion"}, key);
      } else if (key == "methods") {
        methods.clear();
        for (const std::string& name : split_list(value, key))
          methods.push_back(cvae::method_from_name(name, "argument " + key + "="));
      } else if (key == "configs") {
        configs = value;
      } else if (key == "arch") {
        if (value != "mlp" && value != "conv") cvae::fail("argument arch=" + value + ": expected mlp or conv");
        arch = value;
      } else if (key == "report") {
        if (value != "true" && value != "false") cvae::fail("argument report=" + value + ": expected true or false");
        report = value == "true";
      } else {
        overrides.push_back(arg);
      }
    }
    // Load and check every config (and the overrides) before the first run starts.
    std::vector<cvae::Config> grid;
    for (const std::string& ds : datasets)
      for (cvae::Method method : methods)
        for (uint64_t seed : seeds) {
          const std::string suffix = arch == "conv" ? "_conv" : "";
          const std::string m = cvae::method_name(method);
          cvae::Config c = cvae::load_config_file(configs + "/" + ds + "_" + m + suffix + ".json");
          for (const std::string& o : overrides) cvae::apply_override(c, o);
          if (c.arch != arch)
            cvae::fail(configs + "/" + ds + "_" + m + suffix + ".json: arch is '" + c.arch + "', the grid is arch=" + arch);
          c.seed = seed;
          cvae::validate(c);
          grid.push_back(c);
        }
    std::vector<cvae::Table1Run> runs;
    for (size_t i = 0; i < grid.size(); ++i) {
      const cvae::Config& c = grid[i];
      std::string label = "[" + std::to_string(i + 1) + "/" + std::to_string(grid.size()) + " " +
                          c.dataset + " " + cvae::method_name(c.method) + " seed " + std::to_string(c.seed) + "]";
      cvae::ExperimentResult result = cvae::run_experiment(c, label);
      runs.push_back({c.dataset, c.method, c.seed, result.run_dir, result.metrics, c.arch, c});
    }
    std::string dir = cvae::make_run_folder(grid.front().out, "table1");
    cvae::write_file_atomic(dir + "/table1.json", cvae::table1_json(runs).dump(2) + "\n");
    std::string md = cvae::table1_markdown(runs);
    cvae::write_file_atomic(dir + "/table1.md", md);
    std::cout << md << "\nwritten: " << dir << "/table1.md and table1.json\n";
    if (report) {
      cvae::ReportOptions options;
      options.device = grid.front().device;
      options.threads = grid.front().threads;
      options.log = [](const std::string& line) { std::cerr << "report: " << line << "\n"; };
      std::vector<std::string> run_dirs;
      for (const cvae::Table1Run& r : runs) run_dirs.push_back(r.run_dir);
      std::string compare;
      std::vector<cvae::RunReport> reports = cvae::report_runs(run_dirs, options, dir, &compare);
      for (const std::string& line : cvae::sampling_verdicts(reports)) std::cout << line << "\n";
      std::cout << "reports: report.html in each run folder" << (compare.empty() ? "" : "; comparison: " + compare)
                << "\n";
    }
    return 0;
  } catch (const cvae::Interrupted& e) {
    std::cerr << "\nclustervae-table1: " << e.what() << " of " << e.run_dir
              << "; the grid stopped there (runs before it are complete in their folders)\n";
    return 130;
  } catch (const cvae::NumericError& e) {
    std::cerr << "clustervae-table1: " << e.what() << "\n";
    return 3;
  } catch (const cvae::Error& e) {
    std::cerr << "clustervae-table1: " << e.what() << "\n";
    return 2;
  }
}

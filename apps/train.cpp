// clustervae-train CONFIG [key=value ...]: trains one model, evaluates it, prints the metrics and
// the run folder. Exit codes: 0 done, 2 bad input (config, arguments, data files), 3 numbers went
// wrong during training (NaN or divergence), 130 stopped by Ctrl-C (the message says how to resume).
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/error.h"
#include "engine/interrupt.h"
#include "engine/train/experiment.h"

namespace {

const char* kUsage =
    "usage: clustervae-train CONFIG.json [key=value ...]\n"
    "       clustervae-train resume=RUN_DIR [epochs=N ...]\n"
    "  trains the model the config describes, evaluates it on the test set and writes a run\n"
    "  folder (config.json, log.jsonl, weights.safetensors, metrics.json) under out=.\n"
    "  keys: see README.md; e.g. epochs=2 device=cpu seed=3 method=kmeans clusters=20\n"
    "  resume=RUN_DIR continues a run from its last checkpoint in the same folder.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help") {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  cvae::install_stop_handler();
  try {
    std::string first = argv[1];
    for (int i = 2; i < argc; ++i)
      if (std::string(argv[i]).rfind("resume=", 0) == 0)
        throw cvae::Error(std::string("argument '") + argv[i] +
                          "': resume= comes first and alone, without a config (the run folder has its own): "
                          "clustervae-train resume=RUN_DIR [epochs=N ...]");
    cvae::ExperimentResult result;
    if (first.rfind("resume=", 0) == 0) {
      std::vector<std::string> overrides(argv + 2, argv + argc);
      result = cvae::resume_experiment(first.substr(7), overrides);
    } else {
      cvae::Config config = cvae::load_config_file(first);
      for (int i = 2; i < argc; ++i) cvae::apply_override(config, argv[i]);
      result = cvae::run_experiment(config);
    }
    // stdout holds the metrics JSON alone, so it pipes into a JSON parser; the rest is on stderr.
    std::cout << result.metrics.dump(2) << "\n";
    std::cerr << "run folder: " << result.run_dir << "\n";
    return 0;
  } catch (const cvae::Interrupted& e) {
    // Where it stopped, what is kept and the exact command that continues it.
    std::cerr << "\nclustervae-train: " << e.what() << "\n";
    if (e.last_epoch > 0)
      std::cerr << "  last checkpoint: " << e.run_dir << "/weights.safetensors (after epoch "
                << e.last_epoch << ")\n  to continue:     " << argv[0] << " resume=" << e.run_dir << "\n";
    else
      std::cerr << "  no checkpoint yet (the first epoch had not ended): " << e.run_dir
                << " holds only config.json; run the same command again\n";
    return 130;
  } catch (const cvae::NumericError& e) {
    std::cerr << "clustervae-train: " << e.what() << "\n";
    return 3;
  } catch (const cvae::Error& e) {
    std::cerr << "clustervae-train: " << e.what() << "\n";
    return 2;
  }
}

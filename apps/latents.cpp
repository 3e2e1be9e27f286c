// clustervae-latents RUN_DIR [split=test|train] [device=auto|cpu|cuda]
// Writes the encoder's μ and log σ² of every image of a split as NumPy arrays into the run folder:
// <split>_mu.npy [N, latent], <split>_logvar.npy [N, latent], <split>_labels.npy [N].
#include <iostream>
#include <string>

#include "engine/backend/backend.h"
#include "engine/data/dataset.h"
#include "engine/error.h"
#include "engine/io/files.h"
#include "engine/io/npy.h"
#include "engine/train/checkpoint.h"

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help") {
    std::cerr << "usage: clustervae-latents RUN_DIR [split=test|train] [device=auto|cpu|cuda]\n";
    return argc < 2 ? 2 : 0;
  }
  try {
    std::string run_dir = argv[1], split_name = "test", device = "auto";
    for (int i = 2; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg.rfind("split=", 0) == 0) split_name = arg.substr(6);
      else if (arg.rfind("device=", 0) == 0) device = arg.substr(7);
      else cvae::fail("argument '" + arg + "': expected split= or device=");
    }
    if (split_name != "test" && split_name != "train")
      cvae::fail("argument split=" + split_name + ": expected test or train");
    std::unique_ptr<cvae::Backend> backend = cvae::make_backend(device, 0);
    cvae::LoadedRun run = cvae::load_run(*backend, run_dir);
    cvae::HostDataset data = cvae::load_dataset(run.config);
    const cvae::LabelledImages& host = split_name == "test" ? data.test : data.train;
    cvae::DeviceSplit split = cvae::upload_split(*backend, host);
    cvae::Buffer encoded = cvae::encode_split(*backend, run.state, split, run.config.eval_batch);
    const int latent = run.state.shape.latent;
    const int64_t n = split.count;
    std::vector<float> all(n * 2 * latent), mu(n * latent), logvar(n * latent);
    backend->download(all.data(), encoded.as<void>(), sizeof(float) * all.size());
    for (int64_t i = 0; i < n; ++i)
      for (int j = 0; j < latent; ++j) {
        mu[i * latent + j] = all[i * 2 * latent + j];
        logvar[i * latent + j] = all[i * 2 * latent + latent + j];
      }
    std::string base = run_dir + "/" + split_name;
    cvae::write_file_atomic(base + "_mu.npy", cvae::encode_npy_f32(mu, {n, latent}));
    cvae::write_file_atomic(base + "_logvar.npy", cvae::encode_npy_f32(logvar, {n, latent}));
    cvae::write_file_atomic(base + "_labels.npy", cvae::encode_npy_i32(host.labels.labels, {n}));
    std::cout << "wrote " << base << "_mu.npy, " << base << "_logvar.npy, " << base << "_labels.npy ("
              << n << " x " << latent << ")\n";
    return 0;
  } catch (const cvae::Error& e) {
    std::cerr << "clustervae-latents: " << e.what() << "\n";
    return 2;
  }
}

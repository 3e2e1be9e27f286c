// clustervae-sample RUN_DIR [what=prior|class|centres|decode|interpolate] [key=value ...]
// Images from a trained model, as a PNG grid and as NumPy arrays, into RUN_DIR/samples/ (or out=):
//   prior        n samples of the method's prior (N(0, I); its class means or centroids)
//   class        n samples of every class (cvae, lambdahot, movable), or of class=y alone
//   centres      n samples around every k-means centre (kmeans)
//   decode       the z of a float32 .npy [m, latent] (z=FILE), with label=y for the CVAE
//   interpolate  steps images between the μ of test images from=i and to=j
// Same seed, same images. Runs on the GPU when present (device=).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/data/dataset.h"
#include "engine/error.h"
#include "engine/io/files.h"
#include "engine/io/npy.h"
#include "engine/suggest.h"
#include "engine/train/checkpoint.h"
#include "report/figures.h"
#include "report/png.h"
#include "report/sampling.h"

namespace {

const char* kUsage =
    "usage: clustervae-sample RUN_DIR [what=prior|class|centres|decode|interpolate] [n=8] [seed=1]\n"
    "         [class=Y] [z=FILE.npy] [label=Y] [from=I] [to=J] [steps=10] [out=DIR] [device=auto]\n"
    "  prior: n samples of the prior; class: n per class (cvae, lambdahot, movable), or class=Y;\n"
    "  centres: n per k-means centre; decode: the z [m, latent] of a float32 .npy (label=Y for\n"
    "  the CVAE); interpolate: steps images from the mu of test image I to that of J.\n"
    "  Writes <what>.png and <what>.npy (images [count, pixels], in [0, 1]) into RUN_DIR/samples.\n";

int to_int(const std::string& key, const std::string& text, int lo, int hi) {
  char* end = nullptr;
  long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < lo || v > hi)
    cvae::fail("argument " + key + "=" + text + ": expected an integer in [" + std::to_string(lo) + ", " +
               std::to_string(hi) + "]");
  return static_cast<int>(v);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help") {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  try {
    const std::string run_dir = argv[1];
    std::map<std::string, std::string> args = {{"what", "prior"}, {"n", "8"},      {"seed", "1"},
                                               {"device", "auto"}, {"steps", "10"}};
    const std::vector<std::string> keys = {"what", "n", "seed", "class", "z", "label", "from",
                                           "to", "steps", "out", "device"};
    for (int i = 2; i < argc; ++i) {
      const std::string arg = argv[i];
      const size_t eq = arg.find('=');
      const std::string key = arg.substr(0, eq);
      if (eq == std::string::npos || std::find(keys.begin(), keys.end(), key) == keys.end())
        cvae::fail("argument '" + arg + "': unknown" + cvae::did_you_mean(key, keys) +
                   " (clustervae-sample --help lists the keys)");
      args[key] = arg.substr(eq + 1);
    }
    const std::string what = args["what"];
    const std::vector<std::string> kinds = {"prior", "class", "centres", "decode", "interpolate"};
    if (std::find(kinds.begin(), kinds.end(), what) == kinds.end())
      cvae::fail("argument what=" + what + ": not one of prior, class, centres, decode, interpolate" +
                 cvae::did_you_mean(what, kinds));
    if (!cvae::is_device_name(args["device"]))
      cvae::fail("argument device=" + args["device"] + ": expected auto, cpu, cuda or cuda:N");
    const int n = to_int("n", args["n"], 1, 1000);
    const uint64_t seed = static_cast<uint64_t>(to_int("seed", args["seed"], 0, 1 << 30));

    std::unique_ptr<cvae::Backend> backend = cvae::make_backend(args["device"], 0);
    cvae::LoadedRun run = cvae::load_run(*backend, run_dir);
    const cvae::Config& config = run.config;
    const int latent = run.state.shape.latent;
    const int side = run.state.shape.arch == cvae::Arch::conv
                         ? run.state.shape.image_side
                         : static_cast<int>(std::lround(std::sqrt(double(run.state.shape.pixels))));
    std::vector<std::string> names = cvae::class_names(config.dataset, config.classes);

    cvae::GeneratedImages images;
    std::vector<std::string> row_labels;
    int columns = n;
    std::string title;
    if (what == "prior") {
      images = cvae::prior_samples(*backend, config, run.state, n, seed);
      title = std::string("Prior samples of the ") + cvae::method_title(config.method) + ": " +
              cvae::traits(config.method).prior_text;
      columns = std::min(n, 10);
    } else if (what == "class") {
      if (!cvae::traits(config.method).class_sampler)
        cvae::fail("what=class: method '" + cvae::method_name(config.method) +
                   "' has no class-conditional sampler (cvae, lambdahot, movable do)");
      images = cvae::conditional_samples(*backend, config, run.state, n, seed, cvae::kSampleConditionalGrid, true);
      if (args.count("class")) {  // keep one class's row
        const int y = to_int("class", args["class"], 0, config.classes - 1);
        cvae::GeneratedImages one;
        one.pixels = images.pixels;
        one.count = n;
        one.pixels_data.assign(images.pixels_data.begin() + int64_t(y) * n * images.pixels,
                               images.pixels_data.begin() + int64_t(y + 1) * n * images.pixels);
        one.group.assign(n, y);
        images = one;
        row_labels = {names[y]};
      } else {
        row_labels = names;
      }
      title = std::string("Samples of each class: ") + cvae::method_title(config.method);
    } else if (what == "centres") {
      if (run.state.prior->kind() != cvae::PriorKind::nearest_centroid)
        cvae::fail("what=centres: method '" + cvae::method_name(config.method) +
                   "' has no k-means centres (kmeans has)");
      images = cvae::cluster_samples(*backend, config, run.state, n, seed, cvae::kSampleClusterGrid, true);
      for (int k = 0; k < run.state.prior->num_means(); ++k) row_labels.push_back("centre " + std::to_string(k));
      title = "Samples around each k-means centre";
    } else if (what == "decode") {
      if (!args.count("z")) cvae::fail("what=decode needs z=FILE.npy, a float32 array [m, " + std::to_string(latent) + "]");
      cvae::NpyFloats z = cvae::read_npy_f32(args["z"]);
      if (z.shape.size() != 2 || z.shape[1] != latent || z.shape[0] < 1 || z.shape[0] > 100000)
        cvae::fail(args["z"] + ": shape must be [m, " + std::to_string(latent) + "] with 1 <= m <= 100000");
      for (float v : z.values)
        if (!std::isfinite(v)) cvae::fail(args["z"] + ": contains NaN or infinity");
      const int label = args.count("label") ? to_int("label", args["label"], 0, config.classes - 1) : 0;
      std::vector<int32_t> labels(static_cast<size_t>(z.shape[0]), label);
      images = cvae::decode_latents(*backend, run.state, z.values, labels, config.eval_batch);
      images.group = labels;
      columns = static_cast<int>(std::min<int64_t>(z.shape[0], 10));
      title = "Decoded z (" + std::to_string(z.shape[0]) + ")";
    } else {  // interpolate
      if (!args.count("from") || !args.count("to")) cvae::fail("what=interpolate needs from=I and to=J (test image rows)");
      cvae::HostDataset data = cvae::load_dataset(config);
      const int last = static_cast<int>(data.test.images.count) - 1;
      const int from = to_int("from", args["from"], 0, last), to = to_int("to", args["to"], 0, last);
      const int steps = to_int("steps", args["steps"], 2, 100);
      // μ of the two images: their reconstructions' z, read back through a one-image batch each
      cvae::LabelledImages pair;
      pair.images.rows = data.test.images.rows;
      pair.images.cols = data.test.images.cols;
      pair.images.count = 2;
      const int pixels = data.pixels();
      for (int row : {from, to}) {
        pair.images.pixels.insert(pair.images.pixels.end(), data.test.images.pixels.begin() + int64_t(row) * pixels,
                                  data.test.images.pixels.begin() + int64_t(row + 1) * pixels);
        pair.labels.labels.push_back(data.test.labels.labels[row]);
      }
      pair.labels.count = 2;
      cvae::DeviceSplit split = cvae::upload_split(*backend, pair);
      cvae::Buffer encoded = cvae::encode_split(*backend, run.state, split, 2);
      std::vector<float> mu_logvar(size_t(4) * latent);
      backend->download(mu_logvar.data(), encoded.as<void>(), sizeof(float) * mu_logvar.size());
      std::vector<float> z;
      std::vector<int32_t> labels;
      for (int s = 0; s < steps; ++s) {
        const float t = static_cast<float>(s) / (steps - 1);
        for (int j = 0; j < latent; ++j)
          z.push_back((1 - t) * mu_logvar[j] + t * mu_logvar[2 * latent + j]);
        labels.push_back(t < 0.5f ? pair.labels.labels[0] : pair.labels.labels[1]);  // the CVAE's one-hot
      }
      images = cvae::decode_latents(*backend, run.state, z, labels, config.eval_batch);
      images.group = labels;
      columns = steps;
      title = "From test image " + std::to_string(from) + " to " + std::to_string(to);
    }

    const std::string out = args.count("out") ? args["out"] : run_dir + "/samples";
    cvae::make_folder(out);
    cvae::GridSpec spec;
    spec.title = title;
    spec.images = images.pixels_data.data();
    spec.columns = columns;
    spec.rows = static_cast<int>((images.count + columns - 1) / columns);
    spec.image_rows = side;
    spec.image_cols = images.pixels / side;
    if (static_cast<int>(row_labels.size()) == spec.rows) spec.row_labels = row_labels;
    std::vector<float> padded = images.pixels_data;  // a partial last row is filled with white
    padded.resize(static_cast<size_t>(spec.rows) * columns * images.pixels, 1.0f);
    spec.images = padded.data();
    const std::string base = out + "/" + what;
    cvae::write_file_atomic(base + ".png", cvae::encode_png(cvae::image_grid(spec)));
    cvae::write_file_atomic(base + ".npy", cvae::encode_npy_f32(images.pixels_data, {images.count, images.pixels}));
    cvae::write_file_atomic(base + "_groups.npy", cvae::encode_npy_i32(images.group, {images.count}));
    std::cerr << "wrote " << base << ".png, " << base << ".npy (" << images.count << " images) and "
              << base << "_groups.npy\n";
    return 0;
  } catch (const cvae::Error& e) {
    std::cerr << "clustervae-sample: " << e.what() << "\n";
    return 2;
  }
}

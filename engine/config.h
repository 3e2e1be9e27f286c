// A run's configuration: one typed struct, read from a flat JSON file and `key=value` overrides.
// An unknown key, a wrong type or an out-of-range value is an Error naming the key and the source.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/method.h"

namespace cvae {

struct Config {
  std::string name = "run";          // run folder prefix
  Method method = Method::vae;       // vae | beta | cvae | lambdahot | kmeans | movable (engine/method.h)
  std::string arch = "mlp";          // mlp | conv (engine/nn/conv_net.h)
  std::string dataset = "mnist";     // mnist | fashion | custom (custom: the four paths below)
  std::string data_dir = "";         // default: $CLUSTERVAE_DATA, else ./data
  std::string train_images, train_labels, test_images, test_labels;  // override the dataset's files
  int epochs = 10;
  int batch_size = 128;
  double lr = 1e-3;
  uint64_t seed = 1;
  uint64_t eval_seed = 1234;         // ε of the sampled test BCE: the same for every run
  double beta = 1.0;                 // weight of the KL term
  double lambda = 5.0;               // lambda-hot: prior mean λ·e_y on the first `classes` dims
  int clusters = 10;                 // kmeans: K
  std::string anchor = "spread";     // movable: spread | none (see engine/prior/movable.h)
  double min_centre_distance = -1;   // movable: no two centres closer (−1: λ/√2, half λ-hot's λ√2)
  int lloyd_iterations = 50;         // kmeans: at most this many Lloyd steps per re-fit
  int latent_dim = 20;
  int hidden = 400;                  // mlp: the hidden layer's width
  int conv1_channels = 32;           // conv: channels after the first convolution
  int conv2_channels = 64;           // conv: channels after the second
  int classes = 10;
  std::string device = "auto";       // auto | cpu | cuda
  bool cuda_graph = true;            // cuda: record one training step as a CUDA Graph, replay it
  int threads = 0;                   // CPU threads; 0 = all cores
  std::string out = "runs";          // where run folders are made
  int train_limit = 0;               // use only the first N training images (0 = all)
  int test_limit = 0;                // evaluate on only the first N test images (0 = all)
  int eval_batch = 1000;
  bool evaluate = true;              // metrics after training
  std::string progress = "auto";     // auto | bar | lines | off
};

// Keys in file order, for printing and docs.
std::vector<std::string> config_keys();

// Parses a flat JSON object onto `config`; `source` names it in errors (a file path).
void apply_json(Config& config, const nlohmann::json& object, const std::string& source);
// Reads a JSON file (error: missing, unreadable, not an object, bad key/value).
Config load_config_file(const std::string& path);
// Applies one "key=value" argument; value text is parsed by the key's type.
void apply_override(Config& config, const std::string& assignment);
// Checks relations between keys (e.g. lambdahot needs latent_dim >= classes).
void validate(const Config& config);

nlohmann::json to_json(const Config& config);

}  // namespace cvae

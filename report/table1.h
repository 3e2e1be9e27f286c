// The paper's Table 1 grid (data sets × methods × seeds) as data: the paper's own values, the
// summary of measured runs, and plain verdicts on each claim the paper makes from the table.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/config.h"

namespace cvae {

// Test BCE reported by the paper (Table 1), or a negative number when it gives none.
double paper_table1_bce(const std::string& dataset, Method method);
// The paper's Lambda-Hot argmax accuracy (section 5.1), or negative.
double paper_argmax_accuracy(const std::string& dataset);
// The conv net's argmax-accuracy targets: 97 % MNIST, 88 % FashionMNIST; −1 elsewhere.
double conv_argmax_target(const std::string& dataset);

struct Table1Run {
  std::string dataset;
  Method method = Method::vae;
  uint64_t seed = 0;
  std::string run_dir;
  nlohmann::ordered_json metrics;
  std::string arch = "mlp";  // the network: the table's title, and the conv net's own targets
  Config config;             // how it was trained: whether it follows the recipe (below)
};

// How a run's configuration departs from the recipe the paper's figures (and the conv net's own
// targets) were measured with — the shipped configs/: 10 epochs, batch 128, Adam 1e-3, all the
// training and test images, 20 latent dimensions, 400 hidden units (mlp) or 32/64 channels
// (conv), β = 5 for the Beta VAE and 1 otherwise, λ = 5, K = 10. Empty when it follows it; else
// items like "epochs 1 (recipe 10)".
std::vector<std::string> recipe_differences(const Config& config);

// How runs meant to be compared were trained unlike each other: "epochs 3, 10; train_limit 0, 3000"
// over the settings that change what a model learns (epochs, batch_size, lr, limits, latent_dim,
// the network and its width); empty when they all agree.
std::string training_differences(const std::vector<Config>& configs);

struct Stat {
  double mean = 0, std = 0;
  int n = 0;
};
Stat stat_of(const std::vector<double>& values);  // sample std (n − 1); 0 for one value

struct Verdict {
  // outcome: "holds" | "does not hold" | "n/a" | "not comparable" (a run it rests on departs from
  // the recipe, or is not the paper's network: the evidence says how)
  std::string dataset, claim, outcome;
  std::string evidence;
};

// Claims of the paper checked against the mean over seeds of the measured runs.
std::vector<Verdict> table1_verdicts(const std::vector<Table1Run>& runs);

nlohmann::ordered_json table1_json(const std::vector<Table1Run>& runs);
std::string table1_markdown(const std::vector<Table1Run>& runs);

}  // namespace cvae

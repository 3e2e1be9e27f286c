// The paper's Table 1 grid (data sets × methods × seeds) as data: the paper's own values, the
// summary of measured runs, and plain verdicts on each claim the paper makes from the table.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cvae {

// Test BCE reported by the paper (Table 1), or a negative number when it gives none.
double paper_table1_bce(const std::string& dataset, const std::string& method);
// The paper's Lambda-Hot argmax accuracy (section 5.1), or negative.
double paper_argmax_accuracy(const std::string& dataset);
// The conv net's argmax-accuracy targets (issue 5): 97 % MNIST, 88 % FashionMNIST; −1 elsewhere.
double conv_argmax_target(const std::string& dataset);

struct Table1Run {
  std::string dataset, method;
  uint64_t seed = 0;
  std::string run_dir;
  nlohmann::ordered_json metrics;
  std::string arch = "mlp";  // the network: the table's title, and the conv net's own targets
};

struct Stat {
  double mean = 0, std = 0;
  int n = 0;
};
Stat stat_of(const std::vector<double>& values);  // sample std (n − 1); 0 for one value

struct Verdict {
  std::string dataset, claim, outcome;  // outcome: "holds" | "does not hold" | "n/a"
  std::string evidence;
};

// Claims of the paper checked against the mean over seeds of the measured runs.
std::vector<Verdict> table1_verdicts(const std::vector<Table1Run>& runs);

nlohmann::ordered_json table1_json(const std::vector<Table1Run>& runs);
std::string table1_markdown(const std::vector<Table1Run>& runs);

}  // namespace cvae

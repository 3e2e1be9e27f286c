#include "engine/eval/cluster_scores.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "engine/error.h"
#include "engine/eval/labels.h"

namespace cvae {

namespace {

// Checks a (clusters, labels) pair once for the cluster metrics.
void check_partitions(const char* function, const std::vector<int32_t>& clusters,
                      const std::vector<int32_t>& labels, int k, int classes) {
  const std::string name = function;
  if (k <= 0) fail(name + ": k must be positive, got " + std::to_string(k));
  if (classes <= 0) fail(name + ": classes must be positive, got " + std::to_string(classes));
  if (clusters.size() != labels.size())
    fail(name + ": " + std::to_string(clusters.size()) + " clusters but " + std::to_string(labels.size()) +
         " labels");
  if (clusters.empty()) fail(name + ": no points");
  for (size_t i = 0; i < clusters.size(); ++i) {
    if (clusters[i] < 0 || clusters[i] >= k)
      fail(name + ": cluster " + std::to_string(clusters[i]) + " of point " + std::to_string(i) +
           " is outside [0," + std::to_string(k) + ")");
    if (labels[i] < 0 || labels[i] >= classes)
      fail(name + ": label " + std::to_string(labels[i]) + " of point " + std::to_string(i) +
           " is outside [0," + std::to_string(classes) + ")");
  }
}

// Contingency table n_kj = number of points in cluster k with label j, row-major k x classes.
std::vector<int64_t> contingency_table(const std::vector<int32_t>& clusters, const std::vector<int32_t>& labels,
                                       int k, int classes) {
  std::vector<int64_t> table(static_cast<size_t>(k) * classes, 0);
  for (size_t i = 0; i < clusters.size(); ++i) table[static_cast<size_t>(clusters[i]) * classes + labels[i]] += 1;
  return table;
}

}  // namespace

std::vector<int> hungarian_min_cost(const std::vector<double>& cost, int rows, int cols) {
  if (rows < 0 || cols < 0)
    fail("hungarian_min_cost: negative shape " + std::to_string(rows) + "x" + std::to_string(cols));
  if (cost.size() != static_cast<size_t>(rows) * static_cast<size_t>(cols))
    fail("hungarian_min_cost: cost has " + std::to_string(cost.size()) + " entries, expected " +
         std::to_string(rows) + "x" + std::to_string(cols));
  for (size_t i = 0; i < cost.size(); ++i)
    if (!std::isfinite(cost[i])) fail("hungarian_min_cost: cost entry " + std::to_string(i) + " is not finite");

  std::vector<int> assignment(rows, -1);
  if (rows == 0 || cols == 0) return assignment;

  // Square n x n problem: dummy rows/columns cost 0, so every complete assignment costs exactly
  // the sum over its real pairs, and it always pairs min(rows, cols) real rows with real columns.
  const int n = std::max(rows, cols);
  auto a = [&](int row, int col) -> double {  // 1-based, as in the algorithm below
    if (row > rows || col > cols) return 0.0;
    return cost[static_cast<size_t>(row - 1) * cols + (col - 1)];
  };

  // Kuhn-Munkres with row potentials u and column potentials v (the O(n^3) shortest-augmenting-path
  // form): rows are added one at a time; reduced costs a(i,j) - u_i - v_j stay >= 0 and are 0 on
  // the matching. Column 0 is a virtual column holding the row being added. p[j] = row matched to
  // column j (0 = none); way[j] = previous column on the augmenting path to j.
  const double infinity = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0.0), v(n + 1, 0.0), min_reduced(n + 1);
  std::vector<int> p(n + 1, 0), way(n + 1, 0);
  std::vector<char> used(n + 1);
  for (int row = 1; row <= n; ++row) {
    p[0] = row;
    int col0 = 0;
    std::fill(min_reduced.begin(), min_reduced.end(), infinity);
    std::fill(used.begin(), used.end(), 0);
    do {
      used[col0] = 1;
      const int row0 = p[col0];
      double delta = infinity;
      int col1 = 0;
      for (int col = 1; col <= n; ++col) {
        if (used[col]) continue;
        const double reduced = a(row0, col) - u[row0] - v[col];
        if (reduced < min_reduced[col]) {
          min_reduced[col] = reduced;
          way[col] = col0;
        }
        if (min_reduced[col] < delta) {
          delta = min_reduced[col];
          col1 = col;
        }
      }
      for (int col = 0; col <= n; ++col) {
        if (used[col]) {
          u[p[col]] += delta;
          v[col] -= delta;
        } else {
          min_reduced[col] -= delta;
        }
      }
      col0 = col1;
    } while (p[col0] != 0);
    // Flip the augmenting path back to the virtual column.
    do {
      const int col1 = way[col0];
      p[col0] = p[col1];
      col0 = col1;
    } while (col0 != 0);
  }

  for (int col = 1; col <= cols; ++col)
    if (p[col] >= 1 && p[col] <= rows) assignment[p[col] - 1] = col - 1;
  return assignment;
}

double cluster_accuracy_majority(const std::vector<int32_t>& clusters, const std::vector<int32_t>& labels, int k,
                                 int classes) {
  check_partitions("cluster_accuracy_majority", clusters, labels, k, classes);
  const std::vector<int64_t> table = contingency_table(clusters, labels, k, classes);
  int64_t correct = 0;
  for (int cluster = 0; cluster < k; ++cluster) {
    const int64_t* row = &table[static_cast<size_t>(cluster) * classes];
    correct += *std::max_element(row, row + classes);
  }
  return static_cast<double>(correct) / static_cast<double>(clusters.size());
}

double cluster_accuracy_hungarian(const std::vector<int32_t>& clusters, const std::vector<int32_t>& labels, int k,
                                  int classes) {
  check_partitions("cluster_accuracy_hungarian", clusters, labels, k, classes);
  const std::vector<int64_t> table = contingency_table(clusters, labels, k, classes);
  // Maximising the matched counts = minimising their negation.
  std::vector<double> cost(table.size());
  for (size_t i = 0; i < table.size(); ++i) cost[i] = -static_cast<double>(table[i]);
  const std::vector<int> label_of_cluster = hungarian_min_cost(cost, k, classes);
  int64_t correct = 0;
  for (int cluster = 0; cluster < k; ++cluster)
    if (label_of_cluster[cluster] >= 0) correct += table[static_cast<size_t>(cluster) * classes + label_of_cluster[cluster]];
  return static_cast<double>(correct) / static_cast<double>(clusters.size());
}

double normalized_mutual_information(const std::vector<int32_t>& clusters, const std::vector<int32_t>& labels,
                                     int k, int classes) {
  check_partitions("normalized_mutual_information", clusters, labels, k, classes);
  const std::vector<int64_t> table = contingency_table(clusters, labels, k, classes);
  const double n = static_cast<double>(clusters.size());
  std::vector<double> cluster_size(k, 0.0), class_size(classes, 0.0);
  for (int cluster = 0; cluster < k; ++cluster)
    for (int label = 0; label < classes; ++label) {
      const double count = static_cast<double>(table[static_cast<size_t>(cluster) * classes + label]);
      cluster_size[cluster] += count;
      class_size[label] += count;
    }

  // H(U) = −Σ_k (a_k/n) ln(a_k/n), H(V) likewise with b_j; empty clusters/classes contribute 0.
  auto entropy = [n](const std::vector<double>& sizes) {
    double h = 0.0;
    for (double size : sizes)
      if (size > 0) h -= (size / n) * std::log(size / n);
    return h;
  };
  const double h_clusters = entropy(cluster_size);
  const double h_labels = entropy(class_size);
  // A partition with one occupied part has entropy exactly 0 (ln 1).
  if (h_clusters == 0.0 && h_labels == 0.0) return 1.0;
  if (h_clusters == 0.0 || h_labels == 0.0) return 0.0;

  // I(U;V) = Σ_kj (n_kj/n) ln(n·n_kj / (a_k b_j)).
  double mutual_information = 0.0;
  for (int cluster = 0; cluster < k; ++cluster)
    for (int label = 0; label < classes; ++label) {
      const double count = static_cast<double>(table[static_cast<size_t>(cluster) * classes + label]);
      if (count > 0)
        mutual_information += (count / n) * std::log(n * count / (cluster_size[cluster] * class_size[label]));
    }
  mutual_information = std::max(mutual_information, 0.0);  // rounding can leave it a hair below 0
  return std::min(mutual_information / (0.5 * (h_clusters + h_labels)), 1.0);
}

double argmax_accuracy(const float* x, int64_t n, int ld, const int32_t* labels, int classes) {
  if (classes <= 0) fail("argmax_accuracy: classes must be positive, got " + std::to_string(classes));
  if (n <= 0) fail("argmax_accuracy: no rows (n = " + std::to_string(n) + ")");
  if (ld < classes)
    fail("argmax_accuracy: leading dimension " + std::to_string(ld) + " is smaller than classes " +
         std::to_string(classes));
  if (x == nullptr || labels == nullptr) fail("argmax_accuracy: null features or labels");
  check_labels("argmax_accuracy", "the", labels, n, classes);
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i)
    if (argmax_lowest(x + i * ld, classes) == labels[i]) ++correct;
  return static_cast<double>(correct) / static_cast<double>(n);
}

}  // namespace cvae

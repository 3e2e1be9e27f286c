// How well a partition of the latent space matches the classes: cluster accuracy (majority and
// one-to-one), NMI, and the argmax accuracy of the first dimensions, all computed in double on
// the host from labels and features the trainer has already brought back.
// Every function checks its arguments once and throws cvae::Error naming itself and the problem.
#pragma once
#include <cstdint>
#include <vector>

namespace cvae {

// Minimum-cost assignment (Hungarian / Kuhn-Munkres with potentials, O(n^3), n = max(rows, cols))
// on a rows x cols cost matrix (row-major, finite doubles). A rectangular matrix is padded with
// zero-cost dummy rows or columns to a square one, which leaves the optimum over the real pairs
// unchanged. Returns, for each row, its assigned column, or -1 when rows > cols leaves it unassigned.
// Used to map clusters to labels one-to-one (cluster_accuracy_hungarian).
std::vector<int> hungarian_min_cost(const std::vector<double>& cost, int rows, int cols);

// clusters[i] in [0,k), labels[i] in [0,classes).
// Accuracy when each cluster is mapped to the label most frequent in it (several clusters may map to
// one label): sum over clusters of max_j n_kj, divided by n. Optimistic when k > classes.
double cluster_accuracy_majority(const std::vector<int32_t>& clusters, const std::vector<int32_t>& labels,
                                 int k, int classes);

// Accuracy under the best one-to-one mapping of clusters to labels (Hungarian on the negated
// contingency table n_kj); points of clusters left without a label (k > classes) count as wrong.
// This is the usual "unsupervised clustering accuracy" (ACC) of the deep-clustering literature.
double cluster_accuracy_hungarian(const std::vector<int32_t>& clusters, const std::vector<int32_t>& labels,
                                  int k, int classes);

// Normalized mutual information with arithmetic-mean normalisation, I(U;V) / ((H(U)+H(V))/2),
// natural log, as sklearn's normalized_mutual_info_score default. Invariant to relabelling either
// partition. Returns 1.0 when both entropies are 0 (a single cluster and a single class) and 0.0
// when exactly one of them is 0.
double normalized_mutual_information(const std::vector<int32_t>& clusters, const std::vector<int32_t>& labels,
                                     int k, int classes);

// Fraction of rows whose argmax over the first `classes` columns equals the label (the lowest
// index wins a tie). x is n rows with leading dimension ld >= classes. For the lambda-hot prior,
// whose class means sit on the first 10 latent axes, this reads μ directly as a classifier.
double argmax_accuracy(const float* x, int64_t n, int ld, const int32_t* labels, int classes);

}  // namespace cvae

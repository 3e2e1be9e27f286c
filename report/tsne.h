// t-SNE (van der Maaten & Hinton 2008) with the Barnes–Hut gradient (van der Maaten 2014):
//   P: for each point, a Gaussian over its k = ⌊3·perplexity⌋ nearest neighbours (exact, brute
//      force in parallel), bandwidth found by bisection so that the entropy H(P_i) = log(perplexity);
//      then symmetrised, p_ij = (p_j|i + p_i|j) / 2n.
//   Q: Student-t with one degree of freedom in 2-D, q_ij = (1 + ‖y_i − y_j‖²)⁻¹ / Z.
//   ∂C/∂y_i = 4 [ Σ_j p_ij (1 + d_ij²)⁻¹ (y_i − y_j)  −  Σ_j (1 + d_ij²)⁻² (y_i − y_j) / Z ];
//   the second (repulsive) sum and Z come from a quadtree: a cell of width w seen from distance d
//   with w² < θ² d² counts as one body at its centre of mass — O(N log N) per iteration.
// Optimisation as in the reference implementation: early exaggeration 12 for 250 iterations with
// momentum 0.5, then momentum 0.8; per-coordinate gains; learning rate max(N / 12 / 4, 50).
// Deterministic for a seed, whatever the number of threads: every point's sums are computed by one
// thread in a fixed order and totals are added up in point order.
// On a GPU (TsneOptions::backend): the same optimisation, but the gradient's sums come from
// Backend::tsne_forces, exact over all pairs (θ is not used): 10⁸ pairs per iteration for 10,000
// points is milliseconds there, and needs no tree. The affinities and the update stay on the host.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

namespace cvae {

class Backend;

struct TsneOptions {
  double perplexity = 30;
  double theta = 0.5;             // Barnes–Hut accuracy; 0 = exact O(N²) gradient
  int iterations = 1000;
  int exaggeration_iterations = 250;
  double exaggeration = 12;
  double learning_rate = 0;       // 0 = max(N / exaggeration / 4, 50)
  uint64_t seed = 1;              // the initial layout, N(0, 10⁻⁴ I), from Philox
  Backend* backend = nullptr;     // set: the exact gradient through backend->tsne_forces (GPU)
};

struct TsneResult {
  std::vector<double> embedding;  // [n, 2]
  double kl_divergence = 0;       // KL(P ‖ Q) of the final layout (Z from the Barnes–Hut sums)
  int neighbours = 0;
  double seconds = 0;
};

// points: n rows of `dim` floats, `ld` floats apart.
TsneResult tsne(const float* points, int64_t n, int dim, int ld, const TsneOptions& options);

// ---- the pieces, for tests ----

// The symmetric joint probabilities P in compressed rows (each row's columns ascending).
struct SparseAffinities {
  int64_t n = 0;
  std::vector<int64_t> row_start;  // n + 1
  std::vector<int32_t> column;
  std::vector<double> value;
};

// The k nearest neighbours of every point by squared Euclidean distance, ascending (ties broken by
// index); index and distance2 are [n, k].
void nearest_neighbours(const float* points, int64_t n, int dim, int ld, int k,
                        std::vector<int32_t>& index, std::vector<double>& distance2);

// p_j|i ∝ exp(−β d²_j) over one point's k neighbours into p, β found by bisection so that the
// entropy −Σ p log p equals log(perplexity) (to 1e-5 nats; the closest reachable value when
// k ≤ perplexity). Returns β.
double gaussian_row(const double* distance2, int k, double perplexity, double* p);

// p_j|i over each point's k neighbours, bandwidth by bisection on the entropy, then symmetrised.
SparseAffinities tsne_affinities(const float* points, int64_t n, int dim, int ld, double perplexity);

// The gradient above (attractive part times `exaggeration`) into gradient [n, 2]; returns Z.
double tsne_gradient(const SparseAffinities& p, const double* y, double theta, double exaggeration,
                     double* gradient);

// The same gradient, exact, with the sums from Backend::tsne_forces: P goes to the backend once,
// each call uploads y and reads the sums back (Z is added up on the host, in point order).
class BackendTsneGradient {
 public:
  BackendTsneGradient(Backend& backend, const SparseAffinities& p);
  ~BackendTsneGradient();
  double operator()(const double* y, double exaggeration, double* gradient);

 private:
  struct Buffers;
  Backend& backend_;
  int64_t n_;
  std::unique_ptr<Buffers> buffers_;  // P and the sums in backend memory
  std::vector<double> sums_;  // the backend's [sum_q | repulsive | attractive], read back
};

}  // namespace cvae

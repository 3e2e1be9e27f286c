#include "report/tsne.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <thread>
#include <utility>

#include "engine/backend/backend.h"
#include "engine/error.h"
#include "engine/rng.h"
#include "report/sample_uses.h"

namespace cvae {

namespace {

// The quadtree over the embedding: each node a square cell with the count and centre of mass of
// its points; a leaf keeps its points (at most kLeafSize, more only when they coincide). Nodes are
// small (floats: the summary only feeds the approximation) and the points are copied in tree
// order, so a walk reads memory that sits together.
//
// The walk is done once per leaf, not once per point ("grouped" Barnes–Hut): a cell counts as one
// body when w² < θ² d² holds for d the distance from its centre of mass to the nearest point of the
// leaf's bounding box — so it holds for every point of the leaf. The walk yields an interaction
// list (bodies and single points) that every point of the leaf then sums in a tight loop.
struct QuadNode {
  float com_x = 0, com_y = 0;
  float size2 = 0;             // squared cell width, for the θ criterion
  int32_t count = 0;
  int32_t first_child = -1;    // four consecutive nodes, or −1 for a leaf
  int32_t begin = 0, end = 0;  // the node's points: positions [begin, end) in tree order
};

constexpr int kLeafSize = 8;
constexpr int kMaxDepth = 40;

// Bodies a leaf interacts with: position and mass (a cell's count, or 1 for a single point).
struct InteractionList {
  std::vector<float> x, y, mass;
  std::vector<int32_t> stack;
  void clear() {
    x.clear();
    y.clear();
    mass.clear();
  }
  void add(float bx, float by, float m) {
    x.push_back(bx);
    y.push_back(by);
    mass.push_back(m);
  }
};

class QuadTree {
 public:
  QuadTree(const double* y, int64_t n) : y_(y) {
    double lo_x = std::numeric_limits<double>::infinity(), lo_y = lo_x;
    double hi_x = -lo_x, hi_y = -lo_x;
    for (int64_t i = 0; i < n; ++i) {
      lo_x = std::min(lo_x, y[2 * i]);
      hi_x = std::max(hi_x, y[2 * i]);
      lo_y = std::min(lo_y, y[2 * i + 1]);
      hi_y = std::max(hi_y, y[2 * i + 1]);
    }
    double size = std::max(hi_x - lo_x, hi_y - lo_y);
    size = size > 0 ? size * (1 + 1e-9) : 1e-9;
    order_.resize(n);
    std::iota(order_.begin(), order_.end(), 0);
    scratch_.resize(n);
    nodes_.reserve(static_cast<size_t>(n) / 2 + 16);
    nodes_.emplace_back();
    build(0, 0, static_cast<int32_t>(n), lo_x, lo_y, size, 0);
    sorted_x_.resize(n);
    sorted_y_.resize(n);
    for (int64_t k = 0; k < n; ++k) {
      sorted_x_[k] = static_cast<float>(y[2 * order_[k]]);
      sorted_y_[k] = static_cast<float>(y[2 * order_[k] + 1]);
    }
  }

  int64_t leaf_count() const { return static_cast<int64_t>(leaves_.size()); }
  template <class F>
  void for_each_point(int64_t leaf, const F& f) const {
    const QuadNode& node = nodes_[leaves_[leaf]];
    for (int32_t k = node.begin; k < node.end; ++k) f(order_[k]);
  }

  // For every point i of leaf `leaf`: sum_q[i] = Σ_j≠i q_ij·Z and (rx, ry)[i] = Σ_j≠i (q_ij Z)² (y_i − y_j).
  void leaf_repulsion(int64_t leaf, float theta2, InteractionList& list, double* sum_q,
                      double* repulsive) const {
    const QuadNode& own = nodes_[leaves_[leaf]];
    float lo_x = sorted_x_[own.begin], hi_x = lo_x, lo_y = sorted_y_[own.begin], hi_y = lo_y;
    for (int32_t m = own.begin + 1; m < own.end; ++m) {
      lo_x = std::min(lo_x, sorted_x_[m]);
      hi_x = std::max(hi_x, sorted_x_[m]);
      lo_y = std::min(lo_y, sorted_y_[m]);
      hi_y = std::max(hi_y, sorted_y_[m]);
    }
    list.clear();
    list.stack.assign(1, 0);
    while (!list.stack.empty()) {
      const QuadNode& node = nodes_[list.stack.back()];
      list.stack.pop_back();
      if (node.count == 0) continue;
      float dx = std::max(std::max(lo_x - node.com_x, node.com_x - hi_x), 0.0f);
      float dy = std::max(std::max(lo_y - node.com_y, node.com_y - hi_y), 0.0f);
      if (node.size2 < theta2 * (dx * dx + dy * dy)) {
        list.add(node.com_x, node.com_y, static_cast<float>(node.count));
      } else if (node.first_child < 0) {
        // The leaf's own points are in its list too: a point meets itself at distance 0, which
        // adds exactly 1 to its Σq and nothing to its force; the 1 is taken off below.
        for (int32_t m = node.begin; m < node.end; ++m) list.add(sorted_x_[m], sorted_y_[m], 1.0f);
      } else {
        for (int c = 3; c >= 0; --c) list.stack.push_back(node.first_child + c);
      }
    }
    const int64_t bodies = static_cast<int64_t>(list.x.size());
    const float* bx = list.x.data();
    const float* by = list.y.data();
    const float* bm = list.mass.data();
    for (int32_t k = own.begin; k < own.end; ++k) {
      const float xi = sorted_x_[k], yi = sorted_y_[k];
      float s = 0, rx = 0, ry = 0;
#pragma omp simd reduction(+ : s, rx, ry)
      for (int64_t m = 0; m < bodies; ++m) {
        float ex = xi - bx[m], ey = yi - by[m];
        float q = 1.0f / (1.0f + ex * ex + ey * ey);
        float mq = bm[m] * q;
        s += mq;
        rx += mq * q * ex;
        ry += mq * q * ey;
      }
      const int32_t i = order_[k];
      sum_q[i] = static_cast<double>(s) - 1.0;
      repulsive[2 * i] = rx;
      repulsive[2 * i + 1] = ry;
    }
  }

 private:
  void build(int32_t index, int32_t begin, int32_t end, double min_x, double min_y, double size,
             int depth) {
    double sx = 0, sy = 0;
    for (int32_t k = begin; k < end; ++k) {
      sx += y_[2 * order_[k]];
      sy += y_[2 * order_[k] + 1];
    }
    QuadNode& node = nodes_[index];
    node.count = end - begin;
    node.com_x = static_cast<float>(node.count ? sx / node.count : 0);
    node.com_y = static_cast<float>(node.count ? sy / node.count : 0);
    node.size2 = static_cast<float>(size * size);
    node.begin = begin;
    node.end = end;
    if (end - begin <= kLeafSize || depth >= kMaxDepth) {
      if (end > begin) leaves_.push_back(index);  // depth-first: leaves in tree order
      return;
    }
    // Split into quadrants (0: low x low y, 1: high x, 2: high y, 3: both), keeping point order.
    const double half = size / 2, mid_x = min_x + half, mid_y = min_y + half;
    int32_t counts[4] = {0, 0, 0, 0};
    auto quadrant = [&](int32_t j) { return (y_[2 * j] >= mid_x) + 2 * (y_[2 * j + 1] >= mid_y); };
    for (int32_t k = begin; k < end; ++k) ++counts[quadrant(order_[k])];
    int32_t starts[5] = {begin, 0, 0, 0, 0};
    for (int q = 0; q < 4; ++q) starts[q + 1] = starts[q] + counts[q];
    int32_t cursor[4] = {starts[0], starts[1], starts[2], starts[3]};
    for (int32_t k = begin; k < end; ++k) scratch_[cursor[quadrant(order_[k])]++] = order_[k];
    std::copy(scratch_.begin() + begin, scratch_.begin() + end, order_.begin() + begin);
    const int32_t first = static_cast<int32_t>(nodes_.size());
    nodes_[index].first_child = first;  // `node` may dangle after the resize below
    nodes_.resize(nodes_.size() + 4);
    for (int q = 0; q < 4; ++q)
      build(first + q, starts[q], starts[q + 1], (q & 1) ? mid_x : min_x, (q & 2) ? mid_y : min_y,
            half, depth + 1);
  }

  const double* y_;
  std::vector<QuadNode> nodes_;
  std::vector<int32_t> leaves_;
  std::vector<int32_t> order_, scratch_;
  std::vector<float> sorted_x_, sorted_y_;  // the points' coordinates in tree order
};

// body(k) for k in [0, n), in chunks handed out by a shared counter to as many threads as OpenMP
// would use (this one included). Used for the per-iteration loop instead of an OpenMP loop: a
// thread that finishes early sleeps in join() instead of spinning at a barrier, which on a busy
// 2-core machine (another process descheduling one of ours) costs less than the spin — and a
// thread that is running takes the chunks of one that is not. Which thread computes a point does
// not change its result.
template <class Body>
void parallel_chunks(int64_t n, int64_t chunk, const Body& body) {
  const int threads = static_cast<int>(std::min<int64_t>(std::max(1, omp_get_max_threads()), (n + chunk - 1) / chunk));
  std::atomic<int64_t> next{0};
  auto work = [&](int worker) {
    for (int64_t start = next.fetch_add(chunk); start < n; start = next.fetch_add(chunk))
      for (int64_t k = start, end = std::min(n, start + chunk); k < end; ++k) body(k, worker);
  };
  std::vector<std::thread> helpers;
  for (int t = 1; t < threads; ++t) helpers.emplace_back(work, t);
  work(0);
  for (std::thread& helper : helpers) helper.join();
}

// Exact repulsion (θ = 0 without the tree): Σ_j≠i q_ij Z and Σ_j≠i (q_ij Z)² (y_i − y_j).
double exact_repulsion(const double* y, int64_t n, int64_t i, double& fx, double& fy) {
  double sum_q = 0, rx = 0, ry = 0;
  for (int64_t j = 0; j < n; ++j) {
    if (j == i) continue;
    double ex = y[2 * i] - y[2 * j], ey = y[2 * i + 1] - y[2 * j + 1];
    double q = 1.0 / (1.0 + ex * ex + ey * ey);
    sum_q += q;
    rx += q * q * ex;
    ry += q * q * ey;
  }
  fx = rx;
  fy = ry;
  return sum_q;
}

}  // namespace

void nearest_neighbours(const float* points, int64_t n, int dim, int ld, int k,
                        std::vector<int32_t>& index, std::vector<double>& distance2) {
  if (k < 1 || k >= n) fail("tsne: " + std::to_string(k) + " neighbours of " + std::to_string(n) + " points");
  index.assign(static_cast<size_t>(n) * k, 0);
  distance2.assign(static_cast<size_t>(n) * k, 0);
  // Column-major copy: the distances from one point to all others become `dim` passes over
  // contiguous arrays, which the compiler vectorises.
  std::vector<float> columns(static_cast<size_t>(dim) * n);
  for (int64_t j = 0; j < n; ++j)
    for (int c = 0; c < dim; ++c) columns[c * n + j] = points[j * ld + c];
#pragma omp parallel
  {
    std::vector<float> d2(n);
    std::vector<std::pair<float, int32_t>> heap;  // the k best so far, worst on top
    heap.reserve(k + 1);
#pragma omp for schedule(dynamic, 16)
    for (int64_t i = 0; i < n; ++i) {
      std::fill(d2.begin(), d2.end(), 0.0f);
      for (int c = 0; c < dim; ++c) {
        const float a = points[i * ld + c];
        const float* column = &columns[c * n];
        float* out = d2.data();
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) {
          float diff = column[j] - a;
          out[j] += diff * diff;
        }
      }
      // Selection in (distance, index) order: ties go to the lower index, so the result is unique.
      heap.clear();
      for (int64_t j = 0; j < n; ++j) {
        if (j == i) continue;
        std::pair<float, int32_t> candidate{d2[j], static_cast<int32_t>(j)};
        if (static_cast<int>(heap.size()) < k) {
          heap.push_back(candidate);
          std::push_heap(heap.begin(), heap.end());
        } else if (candidate < heap.front()) {
          std::pop_heap(heap.begin(), heap.end());
          heap.back() = candidate;
          std::push_heap(heap.begin(), heap.end());
        }
      }
      std::sort_heap(heap.begin(), heap.end());
      for (int c = 0; c < k; ++c) {
        index[i * k + c] = heap[c].second;
        distance2[i * k + c] = heap[c].first;
      }
    }
  }
}

double gaussian_row(const double* distance2, int k, double perplexity, double* p) {
  const double target = std::log(perplexity);
  double d_min = distance2[0];  // shifting by the smallest distance keeps exp() from underflowing
  for (int c = 1; c < k; ++c) d_min = std::min(d_min, distance2[c]);
  double beta = 1, lo = 0, hi = std::numeric_limits<double>::infinity();
  for (int iteration = 0; iteration < 200; ++iteration) {
    double sum = 0, weighted = 0;
    for (int c = 0; c < k; ++c) {
      p[c] = std::exp(-beta * (distance2[c] - d_min));
      sum += p[c];
      weighted += (distance2[c] - d_min) * p[c];
    }
    double entropy = std::log(sum) + beta * weighted / sum;
    double diff = entropy - target;
    if (std::fabs(diff) < 1e-5) break;
    if (diff > 0) {  // too flat: narrow the Gaussian
      lo = beta;
      beta = std::isinf(hi) ? beta * 2 : (beta + hi) / 2;
    } else {
      hi = beta;
      beta = (beta + lo) / 2;
    }
  }
  double sum = 0;
  for (int c = 0; c < k; ++c) sum += p[c];
  for (int c = 0; c < k; ++c) p[c] /= sum;
  return beta;
}

SparseAffinities tsne_affinities(const float* points, int64_t n, int dim, int ld, double perplexity) {
  if (n < 2) fail("tsne: needs at least 2 points, got " + std::to_string(n));
  if (!(perplexity > 0)) fail("tsne: perplexity must be positive");
  const int k = static_cast<int>(std::min<int64_t>(n - 1, std::max(1, static_cast<int>(3 * perplexity))));
  std::vector<int32_t> neighbour;
  std::vector<double> distance2;
  nearest_neighbours(points, n, dim, ld, k, neighbour, distance2);

  std::vector<double> conditional(static_cast<size_t>(n) * k);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) gaussian_row(&distance2[i * k], k, perplexity, &conditional[i * k]);

  // Symmetrise: every (i, j, p_j|i) contributes to rows i and j; duplicates merged; / 2n.
  std::vector<int64_t> counts(n + 1, 0);
  for (int64_t i = 0; i < n; ++i)
    for (int c = 0; c < k; ++c) {
      ++counts[i + 1];
      ++counts[neighbour[i * k + c] + 1];
    }
  for (int64_t i = 0; i < n; ++i) counts[i + 1] += counts[i];
  std::vector<std::pair<int32_t, double>> entries(counts[n]);
  std::vector<int64_t> cursor(counts.begin(), counts.end() - 1);
  for (int64_t i = 0; i < n; ++i)
    for (int c = 0; c < k; ++c) {
      int32_t j = neighbour[i * k + c];
      double v = conditional[i * k + c];
      entries[cursor[i]++] = {j, v};
      entries[cursor[j]++] = {static_cast<int32_t>(i), v};
    }
  SparseAffinities p;
  p.n = n;
  p.row_start.assign(n + 1, 0);
  const double scale = 1.0 / (2.0 * n);
  for (int64_t i = 0; i < n; ++i) {
    auto first = entries.begin() + counts[i], last = entries.begin() + counts[i + 1];
    std::sort(first, last, [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto it = first; it != last;) {
      int32_t j = it->first;
      double v = 0;
      for (; it != last && it->first == j; ++it) v += it->second;
      p.column.push_back(j);
      p.value.push_back(v * scale);
    }
    p.row_start[i + 1] = static_cast<int64_t>(p.column.size());
  }
  return p;
}

double tsne_gradient(const SparseAffinities& p, const double* y, double theta, double exaggeration,
                     double* gradient) {
  const int64_t n = p.n;
  // Per point: the attractive sum, the repulsive sum and its share of Z, all in one parallel pass
  // (one join per iteration); Z and the combination are serial.
  std::vector<double> sum_q(n), repulsive(2 * n), attractive(2 * n);
  auto attract = [&](int64_t i) {
    double ax = 0, ay = 0;
    for (int64_t e = p.row_start[i]; e < p.row_start[i + 1]; ++e) {
      int32_t j = p.column[e];
      double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
      double w = p.value[e] / (1.0 + dx * dx + dy * dy);
      ax += w * dx;
      ay += w * dy;
    }
    attractive[2 * i] = ax;
    attractive[2 * i + 1] = ay;
  };
  if (theta > 0) {
    QuadTree tree(y, n);
    const float theta2 = static_cast<float>(theta * theta);
    std::vector<InteractionList> lists(std::max(1, omp_get_max_threads()));
    // Leaves in tree order; each point's sums are computed by one thread in one order.
    parallel_chunks(tree.leaf_count(), 16, [&](int64_t leaf, int worker) {
      tree.leaf_repulsion(leaf, theta2, lists[worker], sum_q.data(), repulsive.data());
      tree.for_each_point(leaf, attract);
    });
  } else {
    parallel_chunks(n, 64, [&](int64_t i, int) {
      sum_q[i] = exact_repulsion(y, n, i, repulsive[2 * i], repulsive[2 * i + 1]);
      attract(i);
    });
  }
  double z = 0;
  for (int64_t i = 0; i < n; ++i) z += sum_q[i];  // in point order: the same bits every run
  for (int64_t c = 0; c < 2 * n; ++c) gradient[c] = 4.0 * (exaggeration * attractive[c] - repulsive[c] / z);
  return z;
}

struct BackendTsneGradient::Buffers {
  Buffer row_start, column, value, y;
  Buffer sums;  // [sum_q (n) | repulsive (2n) | attractive (2n)]: one read per iteration
};

BackendTsneGradient::BackendTsneGradient(Backend& backend, const SparseAffinities& p)
    : backend_(backend), n_(p.n), buffers_(std::make_unique<Buffers>()),
      sums_(5 * p.n) {
  if (n_ > std::numeric_limits<int>::max() / 2) fail("tsne: too many points for the backend");
  auto upload = [&](Buffer& to, const void* from, size_t bytes) {
    to = backend_.allocate(std::max<size_t>(bytes, 1));
    backend_.upload(to.as<void>(), from, bytes);
  };
  upload(buffers_->row_start, p.row_start.data(), sizeof(int64_t) * p.row_start.size());
  upload(buffers_->column, p.column.data(), sizeof(int32_t) * p.column.size());
  upload(buffers_->value, p.value.data(), sizeof(double) * p.value.size());
  buffers_->y = backend_.allocate(sizeof(double) * 2 * n_);
  buffers_->sums = backend_.allocate(sizeof(double) * 5 * n_);
}

BackendTsneGradient::~BackendTsneGradient() = default;

double BackendTsneGradient::operator()(const double* y, double exaggeration, double* gradient) {
  Buffers& b = *buffers_;
  backend_.upload(b.y.as<void>(), y, sizeof(double) * 2 * n_);
  double* sums = b.sums.as<double>();
  backend_.tsne_forces(b.y.as<double>(), static_cast<int>(n_), b.row_start.as<int64_t>(),
                       b.column.as<int32_t>(), b.value.as<double>(), sums, sums + n_, sums + 3 * n_);
  backend_.download(sums_.data(), sums, sizeof(double) * sums_.size());
  const double* sum_q = sums_.data();
  const double* repulsive = sum_q + n_;
  const double* attractive = sum_q + 3 * n_;
  double z = 0;
  for (int64_t i = 0; i < n_; ++i) z += sum_q[i];  // in point order, as tsne_gradient
  for (int64_t c = 0; c < 2 * n_; ++c)
    gradient[c] = 4.0 * (exaggeration * attractive[c] - repulsive[c] / z);
  return z;
}

TsneResult tsne(const float* points, int64_t n, int dim, int ld, const TsneOptions& options) {
  if (n < 2) fail("tsne: needs at least 2 points, got " + std::to_string(n));
  if (n > std::numeric_limits<int32_t>::max() / 4) fail("tsne: too many points");
  if (dim < 1 || ld < dim) fail("tsne: bad dimensions");
  if (options.iterations < 1 || options.theta < 0)
    fail("tsne: iterations must be positive and theta non-negative");
  auto started = std::chrono::steady_clock::now();
  SparseAffinities p = tsne_affinities(points, n, dim, ld, options.perplexity);

  TsneResult result;
  result.neighbours = static_cast<int>(std::min<int64_t>(n - 1, static_cast<int64_t>(3 * options.perplexity)));
  std::vector<double>& y = result.embedding;
  y.resize(2 * n);
  RngPosition at{options.seed, RngStream::sample, kSampleTsneLayout};
  for (int64_t i = 0; i < n; ++i)
    for (int c = 0; c < 2; ++c) y[2 * i + c] = 1e-4 * normal_at(at, static_cast<uint32_t>(i), c);

  const double rate = options.learning_rate > 0
                          ? options.learning_rate
                          : std::max(n / std::max(options.exaggeration, 1.0) / 4.0, 50.0);
  std::vector<double> gradient(2 * n), update(2 * n, 0.0), gains(2 * n, 1.0);
  std::unique_ptr<BackendTsneGradient> on_backend;
  if (options.backend) on_backend = std::make_unique<BackendTsneGradient>(*options.backend, p);
  double z = 1;
  for (int iteration = 0; iteration < options.iterations; ++iteration) {
    const bool early = iteration < options.exaggeration_iterations;
    const double exaggeration = early ? options.exaggeration : 1.0;
    const double momentum = early ? 0.5 : 0.8;
    z = on_backend ? (*on_backend)(y.data(), exaggeration, gradient.data())
                   : tsne_gradient(p, y.data(), options.theta, exaggeration, gradient.data());
    for (int64_t c = 0; c < 2 * n; ++c) {
      // Gains grow where the gradient keeps its direction against the last step, shrink otherwise.
      bool same = ((gradient[c] > 0) - (gradient[c] < 0)) == ((update[c] > 0) - (update[c] < 0));
      gains[c] = same ? std::max(gains[c] * 0.8, 0.01) : gains[c] + 0.2;
      update[c] = momentum * update[c] - rate * gains[c] * gradient[c];
      y[c] += update[c];
    }
    double mean_x = 0, mean_y = 0;
    for (int64_t i = 0; i < n; ++i) {
      mean_x += y[2 * i];
      mean_y += y[2 * i + 1];
    }
    mean_x /= n;
    mean_y /= n;
    for (int64_t i = 0; i < n; ++i) {
      y[2 * i] -= mean_x;
      y[2 * i + 1] -= mean_y;
    }
  }
  // KL(P ‖ Q) = Σ p_ij log(p_ij / q_ij), q_ij = (1 + d²)⁻¹ / Z, with Z of the last gradient (the
  // layout moved by one step since; the difference is far below what the figure shows).
  double kl = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t e = p.row_start[i]; e < p.row_start[i + 1]; ++e) {
      int32_t j = p.column[e];
      double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
      double q = 1.0 / (1.0 + dx * dx + dy * dy) / z;
      if (p.value[e] > 0) kl += p.value[e] * std::log(p.value[e] / std::max(q, 1e-300));
    }
  result.kl_divergence = kl;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace cvae

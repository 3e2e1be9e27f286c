// t-SNE: the affinities are a symmetric distribution with the requested perplexity, the Barnes–Hut
// gradient follows the exact one, well-separated clusters stay separated, and a seed fixes the
// result bit for bit whatever the number of threads.
#include <catch2/catch.hpp>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "engine/backend/cpu/cpu_backend.h"
#include "engine/rng.h"
#include "report/tsne.h"
#include "tests/test_helpers.h"

using namespace cvae;

namespace {

// `clusters` Gaussian blobs (σ = 1) in `dim` dimensions, centres `spread` apart on the axes.
std::vector<float> blobs(int clusters, int per_cluster, int dim, float spread, std::vector<int32_t>& labels) {
  std::vector<float> x(static_cast<size_t>(clusters) * per_cluster * dim);
  labels.clear();
  RngPosition at{5, RngStream::sample, 9};
  for (int i = 0; i < clusters * per_cluster; ++i) {
    int c = i % clusters;
    labels.push_back(c);
    for (int d = 0; d < dim; ++d)
      x[static_cast<size_t>(i) * dim + d] = normal_at(at, i, d) + (d == c % dim ? spread : 0.0f) +
                                           (d == (c + 1) % dim ? spread * (c / dim) : 0.0f);
  }
  return x;
}

// Fraction of each point's k nearest neighbours (in the 2-D embedding) that share its label.
double knn_agreement(const std::vector<double>& y, const std::vector<int32_t>& labels, int k) {
  const size_t n = labels.size();
  size_t agree = 0;
  for (size_t i = 0; i < n; ++i) {
    std::vector<std::pair<double, size_t>> d;
    for (size_t j = 0; j < n; ++j)
      if (j != i) d.push_back({std::pow(y[2 * i] - y[2 * j], 2) + std::pow(y[2 * i + 1] - y[2 * j + 1], 2), j});
    std::partial_sort(d.begin(), d.begin() + k, d.end());
    for (int m = 0; m < k; ++m) agree += labels[d[m].second] == labels[i];
  }
  return static_cast<double>(agree) / (n * k);
}

}  // namespace

TEST_CASE("t-SNE nearest neighbours match a brute-force reference in double", "[tsne]") {
  std::vector<int32_t> labels;
  std::vector<float> x = blobs(4, 40, 7, 3, labels);
  const int n = 160, dim = 7, k = 12;
  std::vector<int32_t> index;
  std::vector<double> distance2;
  nearest_neighbours(x.data(), n, dim, dim, k, index, distance2);
  for (int i = 0; i < n; ++i) {
    std::vector<std::pair<double, int>> all;
    for (int j = 0; j < n; ++j) {
      if (j == i) continue;
      double d = 0;
      for (int c = 0; c < dim; ++c) d += std::pow(double(x[i * dim + c]) - x[j * dim + c], 2);
      all.push_back({d, j});
    }
    std::sort(all.begin(), all.end());
    for (int m = 0; m < k; ++m) {
      REQUIRE(distance2[i * k + m] == Approx(all[m].first).epsilon(1e-5));
      if (m + 1 < k && all[m + 1].first - all[m].first > 1e-4) REQUIRE(index[i * k + m] == all[m].second);
    }
  }
}

TEST_CASE("the Gaussian of each point has the requested perplexity", "[tsne]") {
  for (double perplexity : {5.0, 30.0}) {
    const int k = static_cast<int>(3 * perplexity);
    std::vector<double> d2 = test::random_values(k, 3, 0.5, 40);
    std::vector<double> p(k);
    double beta = gaussian_row(d2.data(), k, perplexity, p.data());
    REQUIRE(beta > 0);
    double sum = 0, entropy = 0;
    for (double v : p) {
      sum += v;
      if (v > 0) entropy -= v * std::log(v);
    }
    REQUIRE(sum == Approx(1.0).epsilon(1e-12));
    REQUIRE(std::exp(entropy) == Approx(perplexity).epsilon(1e-4));
    // Closer neighbours weigh more.
    for (int a = 0; a < k; ++a)
      for (int b = 0; b < k; ++b)
        if (d2[a] < d2[b]) REQUIRE(p[a] >= p[b]);
  }
}

TEST_CASE("t-SNE affinities are (p_j|i + p_i|j) / 2n: symmetric and summing to one", "[tsne]") {
  std::vector<int32_t> labels;
  std::vector<float> x = blobs(3, 100, 5, 6, labels);
  const int n = 300;
  const double perplexity = 20;
  SparseAffinities p = tsne_affinities(x.data(), n, 5, 5, perplexity);
  std::map<std::pair<int, int>, double> joint;
  double total = 0;
  for (int i = 0; i < n; ++i)
    for (int64_t e = p.row_start[i]; e < p.row_start[i + 1]; ++e) {
      REQUIRE(p.column[e] != i);
      if (e > p.row_start[i]) REQUIRE(p.column[e] > p.column[e - 1]);
      joint[{i, p.column[e]}] = p.value[e];
      total += p.value[e];
    }
  REQUIRE(total == Approx(1.0).epsilon(1e-9));
  // The same from the definition: conditional rows over the 3·perplexity nearest neighbours.
  const int k = 60;
  std::vector<int32_t> index;
  std::vector<double> d2;
  nearest_neighbours(x.data(), n, 5, 5, k, index, d2);
  std::map<std::pair<int, int>, double> expected;
  for (int i = 0; i < n; ++i) {
    std::vector<double> row(k);
    gaussian_row(&d2[i * k], k, perplexity, row.data());
    for (int m = 0; m < k; ++m) {
      expected[{i, index[i * k + m]}] += row[m] / (2.0 * n);
      expected[{index[i * k + m], i}] += row[m] / (2.0 * n);
    }
  }
  REQUIRE(joint.size() == expected.size());
  for (const auto& [ij, v] : expected) {
    REQUIRE(joint.count(ij) == 1);
    REQUIRE(joint.at(ij) == Approx(v).epsilon(1e-12));
    REQUIRE(joint.at({ij.second, ij.first}) == Approx(v).epsilon(1e-12));
  }
}

TEST_CASE("Barnes-Hut gradient with theta 0.5 follows the exact gradient", "[tsne]") {
  std::vector<int32_t> labels;
  std::vector<float> x = blobs(5, 80, 10, 8, labels);
  const int n = 400;
  SparseAffinities p = tsne_affinities(x.data(), n, 10, 10, 30);
  // A spread-out layout, as in the middle of an optimisation.
  std::vector<double> y(2 * n);
  RngPosition at{3, RngStream::sample, 5};
  for (int i = 0; i < n; ++i) {
    y[2 * i] = 8 * normal_at(at, i, 0) + 20 * (labels[i] % 3);
    y[2 * i + 1] = 8 * normal_at(at, i, 1) + 20 * (labels[i] / 3);
  }
  std::vector<double> exact(2 * n), approx(2 * n);
  double z_exact = tsne_gradient(p, y.data(), 0.0, 1.0, exact.data());
  double z_approx = tsne_gradient(p, y.data(), 0.5, 1.0, approx.data());
  REQUIRE(z_approx == Approx(z_exact).epsilon(0.01));
  double error = 0, norm = 0;
  for (int c = 0; c < 2 * n; ++c) {
    error += std::pow(approx[c] - exact[c], 2);
    norm += std::pow(exact[c], 2);
  }
  REQUIRE(std::sqrt(error / norm) < 0.02);
  // The exact gradient against finite differences of KL(P‖Q) in double.
  auto kl = [&](const std::vector<double>& yy) {
    double z = 0;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j)
        if (i != j) z += 1.0 / (1.0 + std::pow(yy[2 * i] - yy[2 * j], 2) + std::pow(yy[2 * i + 1] - yy[2 * j + 1], 2));
    double c = 0;
    for (int i = 0; i < n; ++i)
      for (int64_t e = p.row_start[i]; e < p.row_start[i + 1]; ++e) {
        int j = p.column[e];
        double q = 1.0 / (1.0 + std::pow(yy[2 * i] - yy[2 * j], 2) + std::pow(yy[2 * i + 1] - yy[2 * j + 1], 2)) / z;
        c += p.value[e] * std::log(p.value[e] / q);
      }
    return c;
  };
  for (int c : {0, 1, 77, 398, 799}) {
    std::vector<double> plus = y, minus = y;
    const double h = 1e-4;
    plus[c] += h;
    minus[c] -= h;
    double numeric = (kl(plus) - kl(minus)) / (2 * h);
    REQUIRE(exact[c] == Approx(numeric).margin(1e-7).epsilon(1e-4));
  }
}

TEST_CASE("the backend's exact t-SNE gradient (the GPU path, run on the CPU backend) equals the exact one",
          "[tsne]") {
  std::vector<int32_t> labels;
  std::vector<float> x = blobs(3, 50, 6, 6, labels);
  const int n = 150;
  SparseAffinities p = tsne_affinities(x.data(), n, 6, 6, 20);
  std::vector<double> y(2 * n);
  RngPosition at{4, RngStream::sample, 5};
  for (int c = 0; c < 2 * n; ++c) y[c] = 5 * normal_at(at, c / 2, c % 2);
  CpuBackend backend(2);
  BackendTsneGradient on_backend(backend, p);
  for (double exaggeration : {1.0, 12.0}) {
    std::vector<double> expected(2 * n), got(2 * n);
    double z_expected = tsne_gradient(p, y.data(), 0.0, exaggeration, expected.data());
    double z_got = on_backend(y.data(), exaggeration, got.data());
    REQUIRE(z_got == Approx(z_expected).epsilon(1e-13));
    for (int c = 0; c < 2 * n; ++c) REQUIRE(got[c] == Approx(expected[c]).margin(1e-15).epsilon(1e-11));
  }
  // A whole optimisation through the backend follows the exact one (θ = 0) on the host.
  TsneOptions options;
  options.iterations = 120;
  options.exaggeration_iterations = 50;
  options.theta = 0;
  TsneResult host = tsne(x.data(), n, 6, 6, options);
  options.backend = &backend;
  TsneResult through_backend = tsne(x.data(), n, 6, 6, options);
  double scale = 0, error = 0;
  for (int c = 0; c < 2 * n; ++c) {
    scale = std::max(scale, std::fabs(host.embedding[c]));
    error = std::max(error, std::fabs(host.embedding[c] - through_backend.embedding[c]));
  }
  REQUIRE(scale > 1);
  REQUIRE(error <= 1e-8 * scale);
}

TEST_CASE("t-SNE keeps well-separated clusters separated", "[tsne]") {
  std::vector<int32_t> labels;
  std::vector<float> x = blobs(6, 70, 12, 10, labels);
  TsneOptions options;
  options.iterations = 500;
  TsneResult result = tsne(x.data(), static_cast<int64_t>(labels.size()), 12, 12, options);
  REQUIRE(result.embedding.size() == 2 * labels.size());
  for (double v : result.embedding) REQUIRE(std::isfinite(v));
  REQUIRE(knn_agreement(result.embedding, labels, 10) >= 0.95);
  REQUIRE(result.kl_divergence > 0);
  REQUIRE(result.kl_divergence < 3);
}

TEST_CASE("t-SNE is deterministic for a seed, whatever the number of threads", "[tsne]") {
  std::vector<int32_t> labels;
  std::vector<float> x = blobs(4, 60, 8, 6, labels);
  const int64_t n = static_cast<int64_t>(labels.size());
  TsneOptions options;
  options.iterations = 300;
  TsneResult first = tsne(x.data(), n, 8, 8, options);
  TsneResult again = tsne(x.data(), n, 8, 8, options);
  REQUIRE(first.embedding == again.embedding);
  const int threads = omp_get_max_threads();
  omp_set_num_threads(threads == 1 ? 2 : 1);
  TsneResult other_threads = tsne(x.data(), n, 8, 8, options);
  omp_set_num_threads(threads);
  REQUIRE(first.embedding == other_threads.embedding);
  options.seed = 2;
  TsneResult other_seed = tsne(x.data(), n, 8, 8, options);
  REQUIRE(first.embedding != other_seed.embedding);
}

TEST_CASE("t-SNE rejects too few points and bad options with a message", "[tsne]") {
  std::vector<float> one = {1, 2, 3};
  REQUIRE_THROWS_WITH(tsne(one.data(), 1, 3, 3, TsneOptions{}), Catch::Contains("at least 2 points"));
  std::vector<float> few(30, 0.5f);
  TsneOptions bad;
  bad.iterations = 0;
  REQUIRE_THROWS_WITH(tsne(few.data(), 10, 3, 3, bad), Catch::Contains("iterations"));
  // Fewer points than 3·perplexity neighbours: k is capped at n − 1 and the result stays finite.
  TsneOptions small;
  small.iterations = 50;
  TsneResult r = tsne(few.data(), 10, 3, 3, small);
  for (double v : r.embedding) REQUIRE(std::isfinite(v));
}

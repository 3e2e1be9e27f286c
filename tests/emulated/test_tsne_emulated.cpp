// The t-SNE gradient's sums (kernels/tsne_forces.cu) compiled against the CUDA emulation, against
// the CPU reference (engine/backend/cpu/tsne_forces.h): point counts below, at and above the kernel's
// 32-point blocks and 8-slice split of j (fewer points than slices, slices with a partial last
// round, a 1-point last block), rows of P with no entries, and outputs poisoned with NaN. The CPU
// sums each point's terms over j in index order, the kernel in 8 consecutive slices added in
// order, both in double; tolerance 1e-12 relative to the sum of the terms' magnitudes. The kernel
// gives the same bits on every run.
#include "kernels/kernels.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "engine/backend/cpu/tsne_forces.h"
#include "tests/test_helpers.h"

using namespace cvae;

TEST_CASE("emulated t-SNE forces equal the CPU's: partial blocks and slices, empty rows of P",
          "[emulated][tsne]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int n : {1, 2, 5, 8, 9, 31, 32, 33, 127, 128, 129, 257, 300, 1000}) {
    CAPTURE(n);
    std::vector<double> y = test::random_values(size_t(2) * n, 40 + n, -20, 20);
    // P: point i has (i % 4) entries (none for every fourth point), columns ascending
    std::vector<int64_t> row_start{0};
    std::vector<int32_t> column;
    std::vector<double> value;
    std::vector<double> weights = test::random_values(size_t(4) * n, 50, 0, 1e-3);
    for (int i = 0; i < n; ++i) {
      for (int e = 0; e < i % 4 && n > 1; ++e) {
        column.push_back((i + 1 + 7 * e) % n == i ? (i + 1) % n : (i + 1 + 7 * e) % n);
        value.push_back(weights[size_t(4) * i + e]);
      }
      row_start.push_back(int64_t(column.size()));
    }
    std::vector<double> sum_q(n + 1, nan), repulsive(2 * n + 1, nan), attractive(2 * n + 1, nan);
    std::vector<double> ref_sum_q = sum_q, ref_repulsive = repulsive, ref_attractive = attractive;
    kernels::tsne_forces(y.data(), n, row_start.data(), column.data(), value.data(), sum_q.data(),
                         repulsive.data(), attractive.data(), nullptr);
    cpu::tsne_forces(y.data(), n, row_start.data(), column.data(), value.data(), ref_sum_q.data(),
                     ref_repulsive.data(), ref_attractive.data());
    REQUIRE(std::isnan(sum_q[n]));
    REQUIRE(std::isnan(repulsive[2 * n]));
    REQUIRE(std::isnan(attractive[2 * n]));
    for (int i = 0; i < n; ++i) {
      CAPTURE(i);
      // Σ|terms| ≤ n for the sums of q ≤ 1, and ≤ n·max|y_i − y_j| ≤ 40n for the forces
      REQUIRE(std::fabs(sum_q[i] - ref_sum_q[i]) <= 1e-12 * n);
      for (int c = 0; c < 2; ++c) {
        REQUIRE(std::fabs(repulsive[2 * i + c] - ref_repulsive[2 * i + c]) <= 1e-12 * 40 * n);
        REQUIRE(std::fabs(attractive[2 * i + c] - ref_attractive[2 * i + c]) <= 1e-12 * 40);
      }
      if (n == 1) REQUIRE(sum_q[0] == 0.0);
      if (i % 4 == 0) REQUIRE(attractive[2 * i] == 0.0);
    }
    if (n >= 2) {  // not all zero: the sums were computed
      double total = 0;
      for (int i = 0; i < n; ++i) total += sum_q[i];
      REQUIRE(total > 0);
    }
  }
}

TEST_CASE("emulated t-SNE forces give the same bits on every run", "[emulated][tsne]") {
  const int n = 333;  // 11 blocks, the last of 13 points; slices of 42 points, the last of 39
  std::vector<double> y = test::random_values(size_t(2) * n, 60, -20, 20);
  std::vector<int64_t> row_start(n + 1);
  std::vector<int32_t> column(n);
  std::vector<double> value = test::random_values(n, 61, 0, 1e-3);
  for (int i = 0; i < n; ++i) {
    row_start[i] = i;
    column[i] = (i + 5) % n;
  }
  row_start[n] = n;
  std::vector<double> runs[2][3];
  for (auto& run : runs) {
    for (auto& out : run) out.assign(2 * n, std::numeric_limits<double>::quiet_NaN());
    kernels::tsne_forces(y.data(), n, row_start.data(), column.data(), value.data(), run[0].data(),
                         run[1].data(), run[2].data(), nullptr);
  }
  for (int k = 0; k < 3; ++k) {
    CAPTURE(k);
    REQUIRE(std::memcmp(runs[0][k].data(), runs[1][k].data(), sizeof(double) * 2 * n) == 0);
  }
}

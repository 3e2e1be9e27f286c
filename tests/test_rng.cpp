// Philox4x32-10 against the published known-answer vectors, and the derived distributions.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "engine/data/shuffle.h"
#include "engine/rng.h"

using namespace cvae;

TEST_CASE("Philox4x32-10 reproduces the Random123 known-answer vectors", "[rng]") {
  Philox4 zero = philox4x32_10({{0, 0, 0, 0}}, 0, 0);
  REQUIRE(zero.v[0] == 0x6627e8d5u);
  REQUIRE(zero.v[1] == 0xe169c58du);
  REQUIRE(zero.v[2] == 0xbc57ac4cu);
  REQUIRE(zero.v[3] == 0x9b00dbd8u);
  Philox4 ones = philox4x32_10({{~0u, ~0u, ~0u, ~0u}}, ~0u, ~0u);
  REQUIRE(ones.v[0] == 0x408f276du);
  REQUIRE(ones.v[1] == 0x41c83b0eu);
  REQUIRE(ones.v[2] == 0xa20bc7c6u);
  REQUIRE(ones.v[3] == 0x6d5451fdu);
  Philox4 pi = philox4x32_10({{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u);
  REQUIRE(pi.v[0] == 0xd16cfe09u);
  REQUIRE(pi.v[1] == 0x94fdccebu);
  REQUIRE(pi.v[2] == 0x5001e420u);
  REQUIRE(pi.v[3] == 0x24126ea1u);
}

TEST_CASE("normal_at is a pure function of its position and has unit moments", "[rng]") {
  RngPosition at{42, RngStream::train_noise, 7};
  REQUIRE(normal_at(at, 3, 5) == normal_at(at, 3, 5));
  RngPosition other_step{42, RngStream::train_noise, 8};
  REQUIRE(normal_at(at, 3, 5) != normal_at(other_step, 3, 5));
  RngPosition other_stream{42, RngStream::eval_noise, 7};
  REQUIRE(normal_at(at, 3, 5) != normal_at(other_stream, 3, 5));
  double sum = 0, sum_sq = 0, sum_4 = 0;
  const int rows = 5000, cols = 20;
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) {
      double x = normal_at(at, i, j);
      sum += x;
      sum_sq += x * x;
      sum_4 += x * x * x * x;
    }
  const double n = rows * cols;
  REQUIRE(std::fabs(sum / n) < 0.01);
  REQUIRE(sum_sq / n == Approx(1.0).epsilon(0.01));
  REQUIRE(sum_4 / n == Approx(3.0).epsilon(0.03));  // Gaussian kurtosis
}

TEST_CASE("the per-epoch shuffle is a permutation that changes with the epoch and the seed", "[rng]") {
  std::vector<int32_t> a = shuffled_order(1000, 1, 1), b = shuffled_order(1000, 1, 2), c = shuffled_order(1000, 2, 1);
  REQUIRE(std::set<int32_t>(a.begin(), a.end()).size() == 1000);
  REQUIRE(*std::min_element(a.begin(), a.end()) == 0);
  REQUIRE(*std::max_element(a.begin(), a.end()) == 999);
  REQUIRE(a != b);
  REQUIRE(a != c);
  REQUIRE(a == shuffled_order(1000, 1, 1));
}

TEST_CASE("normals_of_block gives normal_at's numbers bit for bit", "[rng]") {
  RngPosition at{987654321, RngStream::train_noise, 42};
  for (uint32_t row = 0; row < 300; ++row)
    for (uint32_t block = 0; block < 6; ++block) {
      float four[4];
      normals_of_block(at, row, block, four);
      for (uint32_t lane = 0; lane < 4; ++lane) REQUIRE(four[lane] == normal_at(at, row, 4 * block + lane));
    }
}

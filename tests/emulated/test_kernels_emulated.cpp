// Every custom kernel (kernels/*.cu), compiled as C++ against the CUDA emulation and launched
// through the same launchers the CUDA backend calls, against its CPU reference twin
// (engine/backend/cpu/*.h) on small and odd shapes: sizes that are not a multiple of the block, batch 1,
// K = 1, a cluster left empty, latent not a multiple of 4 (and above a warp), ld wider than the row.
// Outputs are poisoned with NaN first, and the whole buffer is compared, so an element the kernel
// forgets stays NaN and an element beyond the row that it overwrites stops being NaN.
// Tolerances (ε = FLT_EPSILON):
//   - gather, one-hot, bias + ReLU forward, the ReLU mask, fill, k-means assignments, the step
//     state (batch selection, step, start): exact; Adam's constants from memory: as the CPU's;
//   - elementwise values through exp: |Δ| ≤ 1e-5 + 4ε·|ref|;
//   - sums of n terms: |Δ| ≤ 1e-5 + (n + 4)·ε·Σ|term| (the float summation bound, any order);
//   - sums kept in double on both sides (accumulate_sum, k-means sums): one float ulp of the result.
//
// Why one long file: each kernel's case uses the same launch, poisoning and comparison helpers and
// the tolerances above; it is to become rows of one op table run over every backend pair.
#include "kernels/kernels.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "engine/backend/cpu/adam.h"
#include "engine/backend/cpu/bce.h"
#include "engine/backend/cpu/bias_act.h"
#include "engine/backend/cpu/fill.h"
#include "engine/backend/cpu/gather.h"
#include "engine/backend/cpu/lloyd.h"
#include "engine/backend/cpu/reduce.h"
#include "engine/backend/cpu/reparam_kl.h"
#include "engine/backend/cpu/step_state.h"
#include "tests/test_helpers.h"
#include "tests/tolerance.h"

using namespace cvae;
using cvae::test::check_close;
using cvae::test::check_exact;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr double kEps = test::kFloatEps;
cudaStream_t const kStream = nullptr;  // emulated launches are synchronous

using test::random_bytes;
using test::random_floats;
using test::random_ints;

}  // namespace

TEST_CASE("emulated fill writes every element and nothing beyond", "[emulated][fill]") {
  for (int count : {1, 255, 257, 1000}) {
    CAPTURE(count);
    std::vector<float> data(count + 5, kNaN);
    kernels::fill(data.data(), count, 0.25f, kStream);
    std::vector<float> expected(count + 5, kNaN);
    cpu::fill(expected.data(), count, 0.25f);
    check_exact(data, expected, "fill");
  }
}

TEST_CASE("emulated gather writes x/255 bit for bit as the CPU and leaves columns beyond the row alone",
          "[emulated][gather]") {
  const int rows_in_set = 11;
  for (int batch : {1, 7}) {
    for (int pixels : {1, 300}) {
      CAPTURE(batch, pixels);
      const int ld = pixels + 13;
      std::vector<uint8_t> images = random_bytes(size_t(rows_in_set) * pixels, 5);
      images[0] = 0;
      images[1 % images.size()] = 255;
      std::vector<int32_t> indices = random_ints(batch, 6, rows_in_set);
      indices[0] = 0;
      std::vector<float> x(size_t(batch) * ld, kNaN), ref = x;
      kernels::gather_images(images.data(), indices.data(), batch, pixels, x.data(), ld, kStream);
      cpu::gather_images<float>(images.data(), indices.data(), batch, pixels, ref.data(), ld);
      check_exact(x, ref, "gather_images");
    }
  }
}

TEST_CASE("emulated one-hot matches the CPU beside the pixels, for batch 1 and odd class counts",
          "[emulated][gather]") {
  for (int batch : {1, 9}) {
    for (int classes : {1, 3, 10}) {
      CAPTURE(batch, classes);
      const int ld = classes + 4;
      std::vector<int32_t> labels = random_ints(20, 8, classes);
      std::vector<int32_t> indices = random_ints(batch, 9, 20);
      std::vector<float> x(size_t(batch) * ld, kNaN), ref = x;
      kernels::write_one_hot(labels.data(), indices.data(), batch, classes, x.data(), ld, kStream);
      cpu::write_one_hot<float>(labels.data(), indices.data(), batch, classes, ref.data(), ld);
      check_exact(x, ref, "write_one_hot");
    }
  }
}

TEST_CASE("emulated bias + ReLU forward equals the CPU exactly, with ld wider than the row",
          "[emulated][bias_act]") {
  for (Activation act : {Activation::none, Activation::relu}) {
    for (int rows : {1, 5, 33}) {
      for (int cols : {1, 37, 300}) {
        CAPTURE(int(act), rows, cols);
        const int ld = cols + 3;
        std::vector<float> y = random_floats(size_t(rows) * ld, 10, -2, 2);
        for (int r = 0; r < rows; ++r)
          for (int c = cols; c < ld; ++c) y[size_t(r) * ld + c] = kNaN;  // beyond the row: must stay NaN
        std::vector<float> bias = random_floats(cols, 11, -1, 1);
        std::vector<float> ref = y;
        kernels::bias_act_forward(y.data(), ld, bias.data(), rows, cols, act, kStream);
        cpu::bias_act_forward<float>(ref.data(), ld, bias.data(), rows, cols, act);
        check_exact(y, ref, "bias_act_forward");
      }
    }
  }
}

TEST_CASE("emulated bias + ReLU backward masks exactly as the CPU and sums dbias within the float bound",
          "[emulated][bias_act]") {
  for (Activation act : {Activation::none, Activation::relu}) {
    for (int rows : {1, 9, 130}) {
      for (int cols : {1, 33, 70}) {
        for (bool with_dbias : {true, false}) {
          CAPTURE(int(act), rows, cols, with_dbias);
          const int ld_dy = cols + 2, ld_y = cols + 5;
          std::vector<float> dy = random_floats(size_t(rows) * ld_dy, 12, -1, 1);
          std::vector<float> y = random_floats(size_t(rows) * ld_y, 13, -1, 1);
          for (size_t i = 0; i < y.size(); i += 7) y[i] = 0.0f;  // the kink: relu'(0) = 0
          for (int r = 0; r < rows; ++r)
            for (int c = cols; c < ld_dy; ++c) dy[size_t(r) * ld_dy + c] = kNaN;
          std::vector<float> ref_dy = dy;
          std::vector<float> dbias(cols + 1, kNaN), ref_dbias = dbias;
          kernels::bias_act_backward(dy.data(), ld_dy, y.data(), ld_y, with_dbias ? dbias.data() : nullptr,
                                     rows, cols, act, nullptr, 0, kStream);
          cpu::bias_act_backward<float>(ref_dy.data(), ld_dy, y.data(), ld_y,
                                        with_dbias ? ref_dbias.data() : nullptr, rows, cols, act);
          check_exact(dy, ref_dy, "masked dy");
          std::vector<double> magnitude(cols + 1, 0.0);
          for (int r = 0; r < rows; ++r)
            for (int c = 0; c < cols; ++c) magnitude[c] += std::fabs(ref_dy[size_t(r) * ld_dy + c]);
          check_close(dbias, ref_dbias,
                      [&](size_t c) { return 1e-5 + (rows + 4) * kEps * magnitude[c]; }, "dbias");
        }
      }
    }
  }
}

namespace {

// One backward through the chunked path (scratch of `capacity` floats, poisoned, with one more
// beyond it that must stay NaN) against the CPU twin: the mask exactly, dbias within the float
// summation bound of the existing test. Returns the kernel's dbias (NaN-poisoned beyond cols).
std::vector<float> check_chunked_backward(int rows, int cols, Activation act, bool with_dbias,
                                          int64_t capacity) {
  CAPTURE(int(act), rows, cols, with_dbias, capacity);
  const int ld_dy = cols + 3, ld_y = cols + 1;
  std::vector<float> dy = random_floats(size_t(rows) * ld_dy, 14, -1, 1);
  std::vector<float> y = random_floats(size_t(rows) * ld_y, 15, -1, 1);
  for (size_t i = 0; i < y.size(); i += 5) y[i] = 0.0f;  // the kink: relu'(0) = 0
  for (int r = 0; r < rows; ++r)
    for (int c = cols; c < ld_dy; ++c) dy[size_t(r) * ld_dy + c] = kNaN;
  std::vector<float> ref_dy = dy;
  std::vector<float> dbias(cols + 1, kNaN), ref_dbias = dbias;
  std::vector<float> scratch(size_t(capacity) + 1, kNaN);
  kernels::bias_act_backward(dy.data(), ld_dy, y.data(), ld_y, with_dbias ? dbias.data() : nullptr,
                             rows, cols, act, scratch.data(), capacity, kStream);
  cpu::bias_act_backward<float>(ref_dy.data(), ld_dy, y.data(), ld_y,
                                with_dbias ? ref_dbias.data() : nullptr, rows, cols, act);
  check_exact(dy, ref_dy, "masked dy");
  REQUIRE(std::isnan(scratch[size_t(capacity)]));  // nothing written beyond the capacity
  if (!with_dbias)  // mask only: no partials
    REQUIRE(std::all_of(scratch.begin(), scratch.end(), [](float v) { return std::isnan(v); }));
  std::vector<double> magnitude(cols + 1, 0.0);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) magnitude[c] += std::fabs(ref_dy[size_t(r) * ld_dy + c]);
  check_close(dbias, ref_dbias, [&](size_t c) { return 1e-5 + (rows + 4) * kEps * magnitude[c]; },
              "dbias");
  return dbias;
}

}  // namespace

TEST_CASE("emulated bias backward's chunk rule: at least 128 rows a chunk, at most 1024 chunks, "
          "and no more partials than the scratch holds",
          "[emulated][bias_act]") {
  const int64_t cap = kernels::kBiasActBackwardScratchFloats;
  auto chunks = [](int rows, int cols, int64_t scratch) {
    const kernels::RowChunks c = kernels::bias_act_backward_chunks(rows, cols, scratch);
    return std::vector<int>{c.rows_per_chunk, c.count};
  };
  // the review's shapes: a conv bias of 1 and of 32 channels
  REQUIRE(chunks(100352, 1, cap) == std::vector<int>{128, 784});
  REQUIRE(chunks(25088, 32, cap) == std::vector<int>{128, 196});
  REQUIRE(chunks(1 << 20, 1, cap) == std::vector<int>{1024, 1024});         // the chunk cap
  REQUIRE(chunks(1 << 20, 1000, cap) == std::vector<int>{4003, 262});       // the capacity
  REQUIRE(chunks(129, 33, cap) == std::vector<int>{128, 2});                // a last chunk of 1 row
  REQUIRE(chunks(128, 5, cap)[1] == 1);                                      // too short to split
  REQUIRE(chunks(5000, 7, 0)[1] == 1);                                       // no scratch
  REQUIRE(chunks(5000, 600, 1000)[1] == 1);                                  // room for one chunk
  REQUIRE(chunks(0, 5, cap)[1] == 1);                                        // rows = 0: one pass
  for (int rows : {1, 127, 128, 129, 255, 256, 257, 1000, 4097, 100000, 131073, 2000000}) {
    for (int cols : {1, 2, 33, 512, 5000}) {
      for (int64_t scratch : {int64_t(0), int64_t(1), int64_t(100), int64_t(4099), cap}) {
        CAPTURE(rows, cols, scratch);
        const kernels::RowChunks c = kernels::bias_act_backward_chunks(rows, cols, scratch);
        REQUIRE(c.count >= 1);
        REQUIRE(int64_t(c.count) * c.rows_per_chunk >= rows);        // every row in a chunk
        REQUIRE(int64_t(c.count - 1) * c.rows_per_chunk < rows);     // no empty chunk
        if (c.count > 1) {
          REQUIRE(c.rows_per_chunk >= 128);
          REQUIRE(c.count <= 1024);
          REQUIRE(int64_t(c.count) * cols <= scratch);
        }
      }
    }
  }
}

TEST_CASE("emulated bias backward split over row chunks matches the CPU: one column, odd columns, "
          "a short last chunk, a scratch that limits the chunks, mask only, rows = 0",
          "[emulated][bias_act]") {
  const int64_t cap = kernels::kBiasActBackwardScratchFloats;
  struct Shape {
    int rows, cols;
    int64_t capacity;
    int expected_chunks;
  };
  const Shape shapes[] = {
      {3000, 1, cap, 24},     // 23 chunks of 128 and one of 56
      {1000, 33, cap, 8},     // two column blocks, the second with one live column
      {129, 33, cap, 2},      // the last chunk a single row
      {700, 70, 3 * 70 + 5, 3},  // the capacity limits the chunks to 3 (of 234, 234, 232 rows)
      {1500, 40, 40, 1},      // room for one chunk only: the single pass
  };
  for (const Shape& shape : shapes) {
    REQUIRE(kernels::bias_act_backward_chunks(shape.rows, shape.cols, shape.capacity).count ==
            shape.expected_chunks);
    for (Activation act : {Activation::none, Activation::relu})
      for (bool with_dbias : {true, false})
        check_chunked_backward(shape.rows, shape.cols, act, with_dbias, shape.capacity);
  }
  // rows = 0: dbias = 0, and the rest left alone
  std::vector<float> dbias = check_chunked_backward(0, 33, Activation::relu, true, cap);
  for (int c = 0; c < 33; ++c) REQUIRE(dbias[c] == 0.0f);
  REQUIRE(std::isnan(dbias[33]));
}

TEST_CASE("emulated bias backward gives the same bits on every run, split or not", "[emulated][bias_act]") {
  for (int64_t capacity : {int64_t(0), kernels::kBiasActBackwardScratchFloats}) {
    CAPTURE(capacity);
    const int rows = 2000, cols = 3, ld = cols;
    const std::vector<float> dy = random_floats(size_t(rows) * ld, 16, -1, 1);
    const std::vector<float> y = random_floats(size_t(rows) * ld, 17, -1, 1);
    std::vector<float> runs[2];
    for (std::vector<float>& dbias : runs) {
      std::vector<float> grad = dy;
      std::vector<float> scratch(size_t(capacity), kNaN);
      dbias.assign(cols, kNaN);
      kernels::bias_act_backward(grad.data(), ld, y.data(), ld, dbias.data(), rows, cols,
                                 Activation::relu, capacity ? scratch.data() : nullptr, capacity,
                                 kStream);
    }
    REQUIRE(std::memcmp(runs[0].data(), runs[1].data(), sizeof(float) * cols) == 0);
  }
}

namespace {

struct ReparamCase {
  PriorKind kind;
  int num_means;
};

// μ, log σ² for `batch` samples, with log σ² beyond both ends of the clamp and on its bounds, and
// (nearest centroid) samples sitting exactly on duplicated centroids, so ties must go to the lower index.
std::vector<float> reparam_inputs(int batch, int latent, std::vector<float>& means, int num_means) {
  std::vector<float> mu_logvar = random_floats(size_t(batch) * 2 * latent, 20, -3, 3);
  const float special[] = {25.0f, -25.0f, kLogVarMax, kLogVarMin};
  for (int s = 0; s < 4 && s < batch * latent; ++s) {
    int i = (s * 3) % batch, j = (s * 5) % latent;
    mu_logvar[size_t(i) * 2 * latent + latent + j] = special[s];
  }
  if (num_means >= 6) {
    std::copy(means.begin() + 2 * latent, means.begin() + 3 * latent, means.begin() + 5 * latent);
    std::copy(means.begin() + 2 * latent, means.begin() + 3 * latent, mu_logvar.begin());  // sample 0 on centroid 2 = 5
  }
  if (num_means >= 37 && batch >= 3) {
    std::copy(means.begin() + 33 * latent, means.begin() + 34 * latent, means.begin() + 36 * latent);
    std::copy(means.begin() + 3 * latent, means.begin() + 4 * latent, means.begin() + 34 * latent);
    std::copy(means.begin() + 33 * latent, means.begin() + 34 * latent, mu_logvar.begin() + 2 * latent);      // on 33 = 36
    std::copy(means.begin() + 3 * latent, means.begin() + 4 * latent, mu_logvar.begin() + 2 * 2 * latent);    // on 3 = 34
  }
  return mu_logvar;
}

}  // namespace

TEST_CASE("emulated reparam + KL forward matches the CPU for all three priors, K = 1, ties, clamp and odd latents",
          "[emulated][reparam_kl]") {
  const ReparamCase cases[] = {{PriorKind::standard, 0},         {PriorKind::class_mean, 4},
                               {PriorKind::nearest_centroid, 1}, {PriorKind::nearest_centroid, 10},
                               {PriorKind::nearest_centroid, 37}};
  for (const ReparamCase& prior_case : cases) {
    for (int batch : {1, 6, 9}) {
      for (int latent : {1, 3, 20, 37}) {
        for (bool sample : {true, false}) {
          CAPTURE(int(prior_case.kind), prior_case.num_means, batch, latent, sample);
          const int num_means = prior_case.num_means;
          std::vector<float> means = random_floats(size_t(num_means > 0 ? num_means : 1) * latent, 21, -2, 2);
          std::vector<float> mu_logvar = reparam_inputs(batch, latent, means, num_means);
          std::vector<int32_t> labels = random_ints(16, 22, num_means > 0 ? num_means : 1);
          std::vector<int32_t> batch_indices = random_ints(batch, 23, 16);
          std::vector<int32_t> chosen(batch + 1, -7), ref_chosen(batch + 1, -7);
          PriorArgs prior;
          prior.kind = prior_case.kind;
          prior.means = num_means > 0 ? means.data() : nullptr;
          prior.num_means = num_means;
          prior.labels = labels.data();
          PriorArgs ref_prior = prior;
          prior.chosen = chosen.data();
          ref_prior.chosen = ref_chosen.data();
          const RngPosition rng{99, RngStream::train_noise, 4};
          const int ld_z = latent + 3;
          std::vector<float> z(size_t(batch) * ld_z, kNaN), ref_z = z;
          std::vector<float> kl(batch + 1, kNaN), ref_kl = kl;
          kernels::reparam_kl_forward(mu_logvar.data(), batch_indices.data(), batch, latent, prior, rng, 17,
                                      sample, z.data(), ld_z, kl.data(), kStream);
          cpu::reparam_kl_forward<float>(mu_logvar.data(), batch_indices.data(), batch, latent, ref_prior,
                                         prior.means, rng, 17, sample, ref_z.data(), ld_z, ref_kl.data());
          REQUIRE(chosen == ref_chosen);
          if (prior_case.kind == PriorKind::nearest_centroid && num_means >= 6) REQUIRE(chosen[0] == 2);
          if (num_means >= 37 && batch >= 3) {
            REQUIRE(chosen[1] == 33);
            REQUIRE(chosen[2] == 3);
          }
          check_close(z, ref_z, test::elementwise_tolerance(ref_z), "z");
          check_close(kl, ref_kl, [&](size_t i) { return 1e-5 + (latent + 4) * kEps * 2 * std::fabs(double(ref_kl[i])); },
                      "kl");
        }
      }
    }
  }
}

TEST_CASE("emulated reparam + KL forward without z still writes KL and the chosen means", "[emulated][reparam_kl]") {
  const int batch = 5, latent = 7, num_means = 3;
  std::vector<float> means = random_floats(num_means * latent, 24, -2, 2);
  std::vector<float> mu_logvar = reparam_inputs(batch, latent, means, num_means);
  std::vector<int32_t> batch_indices = {0, 1, 2, 3, 4};
  std::vector<int32_t> chosen(batch, -7), ref_chosen(batch, -7);
  PriorArgs prior{PriorKind::nearest_centroid, means.data(), num_means, nullptr, chosen.data()};
  PriorArgs ref_prior = prior;
  ref_prior.chosen = ref_chosen.data();
  std::vector<float> kl(batch, kNaN), ref_kl = kl;
  const RngPosition rng{1, RngStream::eval_noise, 0};
  kernels::reparam_kl_forward(mu_logvar.data(), batch_indices.data(), batch, latent, prior, rng, 0, true,
                              nullptr, latent, kl.data(), kStream);
  cpu::reparam_kl_forward<float>(mu_logvar.data(), batch_indices.data(), batch, latent, ref_prior, means.data(),
                                 rng, 0, true, nullptr, latent, ref_kl.data());
  REQUIRE(chosen == ref_chosen);
  check_close(kl, ref_kl, [&](size_t i) { return 1e-5 + (latent + 4) * kEps * 2 * std::fabs(double(ref_kl[i])); }, "kl");
}

TEST_CASE("emulated reparam + KL backward matches the CPU, with zero gradient beyond the clamp",
          "[emulated][reparam_kl]") {
  const ReparamCase cases[] = {{PriorKind::standard, 0}, {PriorKind::class_mean, 4},
                               {PriorKind::nearest_centroid, 1}, {PriorKind::nearest_centroid, 37}};
  for (const ReparamCase& prior_case : cases) {
    for (int batch : {1, 9}) {
      for (int latent : {1, 3, 37}) {
        CAPTURE(int(prior_case.kind), prior_case.num_means, batch, latent);
        const int num_means = prior_case.num_means;
        std::vector<float> means = random_floats(size_t(num_means > 0 ? num_means : 1) * latent, 25, -2, 2);
        std::vector<float> mu_logvar = reparam_inputs(batch, latent, means, num_means);
        std::vector<int32_t> labels = random_ints(16, 26, num_means > 0 ? num_means : 1);
        std::vector<int32_t> batch_indices = random_ints(batch, 27, 16);
        // The forward's choice, as the model passes it on (computed here by the reference).
        std::vector<int32_t> chosen(batch, -7);
        PriorArgs prior{prior_case.kind, num_means > 0 ? means.data() : nullptr, num_means, labels.data(),
                        chosen.data()};
        const RngPosition rng{7, RngStream::train_noise, 12};
        cpu::reparam_kl_forward<float>(mu_logvar.data(), batch_indices.data(), batch, latent, prior, prior.means,
                                       rng, 3, true, nullptr, latent, nullptr);
        const int ld_dz = latent + 2;
        std::vector<float> dz = random_floats(size_t(batch) * ld_dz, 28, -1, 1);
        const float kl_weight = 0.7f;
        std::vector<float> grad(size_t(batch) * 2 * latent + 3, kNaN), ref_grad = grad;
        kernels::reparam_kl_backward(mu_logvar.data(), batch, latent, prior, rng, 3, dz.data(), ld_dz, kl_weight,
                                     grad.data(), kStream);
        cpu::reparam_kl_backward<float>(mu_logvar.data(), batch, latent, prior, prior.means, rng, 3, dz.data(),
                                        ld_dz, kl_weight, ref_grad.data());
        check_close(grad, ref_grad, test::elementwise_tolerance(ref_grad), "d(mu, logvar)");
        for (int i = 0; i < batch; ++i)
          for (int j = 0; j < latent; ++j) {
            float lv = mu_logvar[size_t(i) * 2 * latent + latent + j];
            if (lv > kLogVarMax || lv < kLogVarMin) REQUIRE(grad[size_t(i) * 2 * latent + latent + j] == 0.0f);
          }
      }
    }
  }
}

TEST_CASE("emulated BCE-with-logits loss and gradient match the double reference on odd pixel counts",
          "[emulated][bce]") {
  const int rows_in_set = 8;
  for (int batch : {1, 3, 6}) {
    for (int pixels : {1, 255, 257, 784}) {
      for (bool with_grad : {true, false}) {
        CAPTURE(batch, pixels, with_grad);
        std::vector<float> logits = random_floats(size_t(batch) * pixels, 30, -30, 30);
        logits[0] = 0.0f;
        if (logits.size() > 2) {
          logits[1] = 100.0f;
          logits[2] = -100.0f;
        }
        std::vector<uint8_t> images = random_bytes(size_t(rows_in_set) * pixels, 31);
        std::vector<int32_t> indices = random_ints(batch, 32, rows_in_set);
        const float grad_scale = 1.0f / batch;
        std::vector<float> loss(batch + 1, kNaN), grad(size_t(batch) * pixels + 1, kNaN);
        kernels::bce_with_logits(logits.data(), images.data(), indices.data(), batch, pixels, grad_scale,
                                 loss.data(), with_grad ? grad.data() : nullptr, kStream);
        std::vector<double> logits_d(logits.begin(), logits.end()), loss_d(batch), grad_d(size_t(batch) * pixels);
        cpu::bce_with_logits<double>(logits_d.data(), images.data(), indices.data(), batch, pixels, grad_scale,
                                     loss_d.data(), grad_d.data());
        std::vector<float> ref_loss(batch + 1, kNaN), ref_grad(size_t(batch) * pixels + 1, kNaN);
        for (int i = 0; i < batch; ++i) ref_loss[i] = static_cast<float>(loss_d[i]);
        if (with_grad)
          for (size_t j = 0; j < grad_d.size(); ++j) ref_grad[j] = static_cast<float>(grad_d[j]);
        // every BCE term is >= 0, so Σ|term| is the loss itself
        check_close(loss, ref_loss, [&](size_t i) { return 1e-5 + (pixels + 4) * kEps * std::fabs(double(ref_loss[i])); },
                    "loss");
        check_close(grad, ref_grad, [&](size_t j) { return 4 * kEps * (grad_scale + std::fabs(double(ref_grad[j]))); },
                    "dlogits");
      }
    }
  }
}

TEST_CASE("emulated Adam matches the CPU over several steps, vectorised and not, on counts off the block",
          "[emulated][adam]") {
  for (int count : {1, 3, 4, 1001}) {
    for (int misalign : {0, 1}) {
      CAPTURE(count, misalign);
      // misalign = 1 starts every buffer one float past a 16-byte boundary: the scalar path.
      std::vector<float> params = random_floats(count + 4, 40, -1, 1), ref_params = params;
      std::vector<float> m(count + 4, 0.0f), v(count + 4, 0.0f), ref_m = m, ref_v = v;
      AdamArgs args;
      args.lr = 1e-2f;
      for (int64_t step = 1; step <= 5; ++step) {
        std::vector<float> grads = random_floats(count + 4, 41, -1, 1, uint32_t(step));
        grads[misalign] = 0.0f;
        args.step = step;
        kernels::adam_step(params.data() + misalign, grads.data() + misalign, m.data() + misalign,
                           v.data() + misalign, count, args, kStream);
        cpu::adam_step<float>(ref_params.data() + misalign, grads.data() + misalign, ref_m.data() + misalign,
                              ref_v.data() + misalign, count, args);
      }
      check_close(params, ref_params, test::elementwise_tolerance(ref_params), "params");
      check_close(m, ref_m, test::elementwise_tolerance(ref_m), "m");
      check_close(v, ref_v, test::elementwise_tolerance(ref_v), "v");
    }
  }
}

TEST_CASE("emulated accumulate_sum adds the double sum of the values to the accumulator", "[emulated][reduce]") {
  for (int count : {1, 255, 256, 1000, 3001}) {
    CAPTURE(count);
    std::vector<float> values = random_floats(count, 50, -10, 10);
    double acc[2] = {2.5, 42.0};
    kernels::accumulate_sum(values.data(), count, acc, kStream);
    double expected = 2.5, magnitude = 2.5;
    cpu::accumulate_sum(values.data(), count, &expected);
    for (float v : values) magnitude += std::fabs(v);
    REQUIRE(std::fabs(acc[0] - expected) <= 1e-12 * magnitude);
    REQUIRE(acc[1] == 42.0);
  }
}

TEST_CASE("emulated Lloyd assignment equals the CPU's exactly, lowest index on ties, K = 1 and K above a warp",
          "[emulated][lloyd]") {
  for (int n : {1, 7, 130, 1000}) {
    for (int dim : {1, 3, 20}) {
      for (int k : {1, 10, 37}) {
        CAPTURE(n, dim, k);
        const int ld = dim + 3;
        std::vector<float> points = random_floats(size_t(n) * ld, 60, -3, 3);
        std::vector<float> centroids = random_floats(size_t(k) * dim, 61, -3, 3);
        if (k >= 10) {  // centroid 7 duplicates centroid 4, and point 0 sits on it
          std::copy(centroids.begin() + 4 * dim, centroids.begin() + 5 * dim, centroids.begin() + 7 * dim);
          std::copy(centroids.begin() + 4 * dim, centroids.begin() + 5 * dim, points.begin());
        }
        std::vector<int32_t> assignment(n + 1, -7), ref_assignment = assignment;
        std::vector<float> distance(n + 1, kNaN), ref_distance = distance;
        kernels::lloyd_assign(points.data(), n, dim, ld, centroids.data(), k, assignment.data(),
                              distance.data(), kStream);
        cpu::lloyd_assign<float>(points.data(), n, dim, ld, centroids.data(), k, ref_assignment.data(),
                                 ref_distance.data());
        REQUIRE(assignment == ref_assignment);
        if (k >= 10) REQUIRE(assignment[0] == 4);
        check_close(distance, ref_distance, [&](size_t i) { return (dim + 4) * kEps * std::fabs(double(ref_distance[i])); },
                    "distance");
        std::vector<int32_t> only(n, -7);
        kernels::lloyd_assign(points.data(), n, dim, ld, centroids.data(), k, only.data(), nullptr, kStream);
        REQUIRE(std::vector<int32_t>(assignment.begin(), assignment.end() - 1) == only);
      }
    }
  }
}

TEST_CASE("emulated Lloyd accumulate overwrites sums and counts, across chunks, with an empty cluster",
          "[emulated][lloyd]") {
  for (int n : {0, 1, 300, 1000}) {
    for (int dim : {1, 3, 20}) {
      for (int k : {1, 5}) {
        CAPTURE(n, dim, k);
        const int ld = dim + 2;
        std::vector<float> points = random_floats(size_t(n) * ld + 1, 70, -3, 3);
        // clusters 0..k−2 only: the last cluster stays empty (k = 1: everything in cluster 0)
        std::vector<int32_t> assignment = random_ints(n, 71, k > 1 ? k - 1 : 1);
        std::vector<float> sums(size_t(k) * dim + 1, kNaN), counts(k + 1, kNaN);
        std::vector<float> ref_sums = sums, ref_counts = counts;
        std::vector<double> scratch(size_t(kernels::lloyd_accumulate_scratch_doubles(n, dim, k)) + 1, 1e300);
        kernels::lloyd_accumulate(points.data(), n, dim, ld, assignment.data(), k, sums.data(), counts.data(),
                                  scratch.data(), kStream);
        cpu::lloyd_accumulate<float>(points.data(), n, dim, ld, assignment.data(), k, ref_sums.data(),
                                     ref_counts.data());
        check_exact(counts, ref_counts, "counts");
        check_close(sums, ref_sums, [&](size_t i) { return kEps * std::fabs(double(ref_sums[i])); }, "sums");
        if (k > 1) {
          REQUIRE(counts[k - 1] == 0.0f);
          for (int j = 0; j < dim; ++j) REQUIRE(sums[size_t(k - 1) * dim + j] == 0.0f);
        }
      }
    }
  }
}

TEST_CASE("emulated step state: select_batch and advance_step walk an epoch exactly as the CPU",
          "[emulated][step_state]") {
  const int count = 23, capacity = 5;  // 4 full batches and a last one of 3
  std::vector<int32_t> order = random_ints(count, 60, 1000);
  AdamArgs args;
  args.lr = 3e-3f;
  StepState state = step_state_at(41, 0, args), ref_state = state;
  for (int start = 0; start < count; start += capacity) {
    const int batch = std::min(capacity, count - start);
    CAPTURE(start, batch);
    std::vector<int32_t> picked(capacity + 2, -1), ref_picked = picked;
    kernels::select_batch(order.data(), &state, batch, picked.data(), kStream);
    cpu::select_batch(order.data(), &ref_state, batch, ref_picked.data());
    REQUIRE(picked == ref_picked);
    REQUIRE(std::vector<int32_t>(picked.begin(), picked.begin() + batch) ==
            std::vector<int32_t>(order.begin() + start, order.begin() + start + batch));
    REQUIRE(picked[batch] == -1);  // nothing beyond the batch
    kernels::advance_step(&state, batch, args, kStream);
    cpu::advance_step(&ref_state, batch, args);
    REQUIRE(state.step == ref_state.step);
    REQUIRE(state.start == ref_state.start);
    REQUIRE(state.adam_step_size == Approx(ref_state.adam_step_size).epsilon(2 * kEps));
    REQUIRE(state.adam_inv_sqrt_correction2 == Approx(ref_state.adam_inv_sqrt_correction2).epsilon(2 * kEps));
  }
  REQUIRE(state.step == 41 + 5);
  REQUIRE(state.start == count);
  // The constants are those of the new step, as a host-side AdamArgs would compute them.
  StepState expected = step_state_at(46, count, args);
  REQUIRE(ref_state.adam_step_size == expected.adam_step_size);
  REQUIRE(ref_state.adam_inv_sqrt_correction2 == expected.adam_inv_sqrt_correction2);
}

TEST_CASE("emulated reparam and Adam read a replayed step's number and constants from memory",
          "[emulated][step_state]") {
  // The same results as with the values passed directly, on the kernel and on the CPU twin.
  const int batch = 7, latent = 6;
  std::vector<float> means = random_floats(size_t(3) * latent, 61, -2, 2);
  std::vector<float> mu_logvar = random_floats(size_t(batch) * 2 * latent, 62, -1, 1);
  std::vector<int32_t> labels = random_ints(10, 63, 3), batch_indices = random_ints(batch, 64, 10);
  std::vector<int32_t> chosen(batch);
  PriorArgs prior{PriorKind::class_mean, means.data(), 3, labels.data(), chosen.data()};
  AdamArgs args;
  args.lr = 1e-2f;
  StepState state = step_state_at(9, 0, args);
  const RngPosition by_value{5, RngStream::train_noise, 9};
  const RngPosition in_memory{5, RngStream::train_noise, 0, &state.step};
  std::vector<float> z(size_t(batch) * latent, kNaN), z_memory = z, z_cpu = z;
  std::vector<float> kl(batch), kl_memory(batch), kl_cpu(batch);
  kernels::reparam_kl_forward(mu_logvar.data(), batch_indices.data(), batch, latent, prior, by_value, 0, true,
                              z.data(), latent, kl.data(), kStream);
  kernels::reparam_kl_forward(mu_logvar.data(), batch_indices.data(), batch, latent, prior, in_memory, 0, true,
                              z_memory.data(), latent, kl_memory.data(), kStream);
  cpu::reparam_kl_forward<float>(mu_logvar.data(), batch_indices.data(), batch, latent, prior, prior.means,
                                 in_memory, 0, true, z_cpu.data(), latent, kl_cpu.data());
  check_exact(z_memory, z, "z with the step from memory (kernel)");
  check_close(z_cpu, z, test::elementwise_tolerance(z), "z with the step from memory (CPU)");
  std::vector<float> dz = random_floats(size_t(batch) * latent, 65, -1, 1);
  std::vector<float> grad(size_t(batch) * 2 * latent, kNaN), grad_memory = grad;
  kernels::reparam_kl_backward(mu_logvar.data(), batch, latent, prior, by_value, 0, dz.data(), latent, 0.5f,
                               grad.data(), kStream);
  kernels::reparam_kl_backward(mu_logvar.data(), batch, latent, prior, in_memory, 0, dz.data(), latent, 0.5f,
                               grad_memory.data(), kStream);
  check_exact(grad_memory, grad, "d(mu, logvar) with the step from memory");
  // A different step in memory gives different noise: the pointer is really read.
  state.step = 10;
  kernels::reparam_kl_forward(mu_logvar.data(), batch_indices.data(), batch, latent, prior, in_memory, 0, true,
                              z_memory.data(), latent, kl_memory.data(), kStream);
  REQUIRE(z_memory != z);

  const int count = 37;
  std::vector<float> params = random_floats(count, 66, -1, 1), grads = random_floats(count, 67, -1, 1);
  std::vector<float> p1 = params, m1(count), v1(count), p2 = params, m2(count), v2(count), p3 = params,
                     m3(count), v3(count);
  AdamArgs value = args;
  value.step = 9;
  AdamArgs memory = args;
  memory.step = 1;  // ignored when the constants come from memory
  StepState at9 = step_state_at(9, 0, args);
  memory.constants_in_memory = &at9.adam_step_size;
  kernels::adam_step(p1.data(), grads.data(), m1.data(), v1.data(), count, value, kStream);
  kernels::adam_step(p2.data(), grads.data(), m2.data(), v2.data(), count, memory, kStream);
  cpu::adam_step<float>(p3.data(), grads.data(), m3.data(), v3.data(), count, memory);
  check_exact(p2, p1, "Adam with its constants from memory (kernel)");
  check_exact(p3, p1, "Adam with its constants from memory (CPU)");
}

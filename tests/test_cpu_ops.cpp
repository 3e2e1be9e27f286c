// The CPU reference ops: each gradient against central finite differences in double, the KL closed
// form against Monte Carlo, and the float backend against the double templates.
#include <catch2/catch.hpp>

#include <cfloat>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "engine/backend/cpu/adam.h"
#include "engine/backend/cpu/bce.h"
#include "engine/backend/cpu/bias_act.h"
#include "engine/backend/cpu/cpu_backend.h"
#include "engine/backend/cpu/fast_math.h"
#include "engine/backend/cpu/gather.h"
#include "engine/backend/cpu/gemm_naive.h"
#include "engine/backend/cpu/reparam_kl.h"
#include "tests/test_helpers.h"

using namespace cvae;
using cvae::test::random_values;

namespace {

// Central difference of f at x[i] (double precision: step 1e-6 gives ~1e-9 accuracy).
double numeric_derivative(std::vector<double>& x, size_t i, const std::function<double()>& f) {
  const double h = 1e-6;
  double saved = x[i];
  x[i] = saved + h;
  double up = f();
  x[i] = saved - h;
  double down = f();
  x[i] = saved;
  return (up - down) / (2 * h);
}

void check_gradient(std::vector<double>& x, const std::vector<double>& analytic,
                    const std::function<double()>& f, double tolerance = 1e-6) {
  REQUIRE(x.size() == analytic.size());
  for (size_t i = 0; i < x.size(); ++i) {
    double numeric = numeric_derivative(x, i, f);
    INFO("index " << i);
    REQUIRE(analytic[i] == Approx(numeric).margin(tolerance).epsilon(1e-5));
  }
}

// The double templates take the mean table separately, so PriorArgs carries no pointer to it.
PriorArgs prior_of(PriorKind kind, int num_means, const std::vector<int32_t>& labels,
                   std::vector<int32_t>& chosen) {
  PriorArgs p;
  p.kind = kind;
  p.num_means = num_means;
  p.labels = labels.data();
  p.chosen = chosen.data();
  return p;
}

}  // namespace

TEST_CASE("BCE-with-logits gradient matches finite differences in double", "[cpu][bce]") {
  const int batch = 3, pixels = 17;
  std::vector<double> logits = random_values(batch * pixels, 11, -30, 30);
  logits[0] = 0.0;  // the kink of |l| must still differentiate correctly
  std::vector<uint8_t> images(batch * pixels);
  for (size_t i = 0; i < images.size(); ++i) images[i] = static_cast<uint8_t>((i * 37) % 256);
  std::vector<int32_t> indices = {2, 0, 1};
  std::vector<double> loss(batch), grad(batch * pixels);
  cpu::bce_with_logits(logits.data(), images.data(), indices.data(), batch, pixels, 1.0,
                       loss.data(), grad.data());
  auto total = [&] {
    std::vector<double> l(batch);
    cpu::bce_with_logits<double>(logits.data(), images.data(), indices.data(), batch, pixels, 1.0,
                                 l.data(), nullptr);
    return l[0] + l[1] + l[2];
  };
  check_gradient(logits, grad, total);
}

TEST_CASE("BCE-with-logits equals the naive formula and stays finite for huge logits", "[cpu][bce]") {
  std::vector<double> logits = {-3.0, 0.5, 2.0, -1000.0, 1000.0};
  std::vector<uint8_t> image = {0, 128, 255, 255, 0};
  std::vector<int32_t> index = {0};
  std::vector<double> loss(1);
  cpu::bce_with_logits<double>(logits.data(), image.data(), index.data(), 1, 5, 1.0, loss.data(), nullptr);
  double naive = 0;
  for (int j = 0; j < 3; ++j) {
    double p = 1 / (1 + std::exp(-logits[j])), x = image[j] / 255.0;
    naive += -(x * std::log(p) + (1 - x) * std::log(1 - p));
  }
  naive += 1000.0 + 1000.0;  // x=1 with l=−1000 and x=0 with l=1000 each cost |l|
  REQUIRE(loss[0] == Approx(naive).epsilon(1e-12));
  std::vector<float> flogits(logits.begin(), logits.end()), floss(1), fgrad(5);
  cpu::bce_with_logits<float>(flogits.data(), image.data(), index.data(), 1, 5, 1.0f, floss.data(), fgrad.data());
  REQUIRE(std::isfinite(floss[0]));
  REQUIRE(floss[0] == Approx(naive).epsilon(1e-5));
  REQUIRE(fgrad[3] == Approx(-1.0f));
  REQUIRE(fgrad[4] == Approx(1.0f));
}

TEST_CASE("bias + ReLU backward matches finite differences in double", "[cpu][bias_act]") {
  const int rows = 4, cols = 6;
  std::vector<double> pre = random_values(rows * cols, 3, -1, 1);
  std::vector<double> bias = random_values(cols, 4, -0.5, 0.5);
  std::vector<double> weight = random_values(rows * cols, 5, -1, 1);  // L = Σ weight ⊙ relu(pre + b)
  auto loss = [&] {
    std::vector<double> y = pre;
    cpu::bias_act_forward(y.data(), cols, bias.data(), rows, cols, Activation::relu);
    double sum = 0;
    for (size_t i = 0; i < y.size(); ++i) sum += weight[i] * y[i];
    return sum;
  };
  std::vector<double> y = pre;
  cpu::bias_act_forward(y.data(), cols, bias.data(), rows, cols, Activation::relu);
  std::vector<double> dy = weight, dbias(cols);
  cpu::bias_act_backward(dy.data(), cols, y.data(), cols, dbias.data(), rows, cols, Activation::relu);
  check_gradient(pre, dy, loss);
  check_gradient(bias, dbias, loss);
}

TEST_CASE("linear layer gradients (GEMM forms used by the model) match finite differences", "[cpu][linear]") {
  // y = x Wᵀ + b, L = Σ u ⊙ y: dW = dyᵀ x, dx = dy W, db = Σ_rows dy.
  const int batch = 3, in = 5, out = 4;
  std::vector<double> x = random_values(batch * in, 7, -1, 1), w = random_values(out * in, 8, -1, 1);
  std::vector<double> b = random_values(out, 9, -1, 1), u = random_values(batch * out, 10, -1, 1);
  auto loss = [&] {
    std::vector<double> y(batch * out);
    cpu::gemm_naive<double>(false, true, batch, out, in, 1.0, x.data(), in, w.data(), in, 0.0, y.data(), out);
    cpu::bias_act_forward(y.data(), out, b.data(), batch, out, Activation::none);
    double sum = 0;
    for (size_t i = 0; i < y.size(); ++i) sum += u[i] * y[i];
    return sum;
  };
  std::vector<double> dw(out * in), dx(batch * in), db(out), dy = u;
  cpu::gemm_naive<double>(true, false, out, in, batch, 1.0, dy.data(), out, x.data(), in, 0.0, dw.data(), in);
  cpu::gemm_naive<double>(false, false, batch, in, out, 1.0, dy.data(), out, w.data(), in, 0.0, dx.data(), in);
  cpu::bias_act_backward<double>(dy.data(), out, nullptr, out, db.data(), batch, out, Activation::none);
  check_gradient(w, dw, loss);
  check_gradient(x, dx, loss);
  check_gradient(b, db, loss);
}

TEST_CASE("oneDNN sgemm agrees with the naive GEMM for every transpose and leading dimension", "[cpu][gemm]") {
  CpuBackend backend(1);
  const int m = 7, n = 9, k = 13;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;
      std::vector<double> a = random_values((ta ? k : m) * lda, 20, -1, 1);
      std::vector<double> b = random_values((tb ? n : k) * ldb, 21, -1, 1);
      std::vector<double> c = random_values(m * ldc, 22, -1, 1);
      std::vector<double> expect = c;
      cpu::gemm_naive<double>(ta, tb, m, n, k, 0.5, a.data(), lda, b.data(), ldb, 2.0, expect.data(), ldc);
      std::vector<float> fa(a.begin(), a.end()), fb(b.begin(), b.end()), fc(c.begin(), c.end());
      backend.gemm(ta, tb, m, n, k, 0.5f, fa.data(), lda, fb.data(), ldb, 2.0f, fc.data(), ldc);
      for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) REQUIRE(fc[i * ldc + j] == Approx(expect[i * ldc + j]).margin(1e-5));
    }
}

TEST_CASE("reparam + KL gradients match finite differences for all three priors", "[cpu][reparam_kl]") {
  const int batch = 4, latent = 5, classes = 3;
  std::vector<double> means = random_values(classes * latent, 30, -3, 3);
  std::vector<int32_t> labels = {2, 0, 1, 2, 1}, batch_indices = {4, 1, 0, 3}, chosen(batch);
  RngPosition rng{77, RngStream::train_noise, 5};
  const double kl_weight = 2.5;
  for (PriorKind kind : {PriorKind::standard, PriorKind::class_mean, PriorKind::nearest_centroid}) {
    INFO("prior kind " << static_cast<int>(kind));
    std::vector<double> ml = random_values(batch * 2 * latent, 31 + static_cast<int>(kind), -2, 2);
    std::vector<double> u = random_values(batch * latent, 40, -1, 1);  // L = Σ u ⊙ z + w Σ KL
    PriorArgs prior = prior_of(kind, classes, labels, chosen);
    auto loss = [&] {
      std::vector<double> z(batch * latent), kl(batch);
      std::vector<int32_t> scratch(batch);
      PriorArgs p = prior;
      p.chosen = scratch.data();
      cpu::reparam_kl_forward(ml.data(), batch_indices.data(), batch, latent, p, means.data(), rng,
                              0, true, z.data(), latent, kl.data());
      double sum = 0;
      for (size_t i = 0; i < z.size(); ++i) sum += u[i] * z[i];
      for (double v : kl) sum += kl_weight * v;
      return sum;
    };
    std::vector<double> z(batch * latent), kl(batch), grad(batch * 2 * latent);
    cpu::reparam_kl_forward(ml.data(), batch_indices.data(), batch, latent, prior, means.data(), rng,
                            0, true, z.data(), latent, kl.data());
    cpu::reparam_kl_backward(ml.data(), batch, latent, prior, means.data(), rng, 0, u.data(), latent,
                             kl_weight, grad.data());
    check_gradient(ml, grad, loss);
    if (kind == PriorKind::class_mean)
      for (int i = 0; i < batch; ++i) REQUIRE(chosen[i] == labels[batch_indices[i]]);
  }
}

TEST_CASE("nearest-centroid prior picks the closest centroid, lowest index on ties", "[cpu][reparam_kl]") {
  const int latent = 2;
  std::vector<double> means = {0, 0, 10, 0, 0, 10, 10, 0};  // centroid 3 duplicates centroid 1
  std::vector<double> ml = {9, 1, 0, 0, /**/ 1, 8, 0, 0, /**/ 0.1, 0.1, 0, 0};
  std::vector<int32_t> idx = {0, 1, 2}, chosen(3), labels(3);
  PriorArgs p;
  p.kind = PriorKind::nearest_centroid;
  p.num_means = 4;
  p.chosen = chosen.data();
  std::vector<double> kl(3);
  cpu::reparam_kl_forward<double>(ml.data(), idx.data(), 3, latent, p, means.data(), {}, 0, false,
                                  nullptr, latent, kl.data());
  REQUIRE(chosen == std::vector<int32_t>{1, 2, 0});
  // KL with σ² = 1 is ½‖μ − m‖²
  REQUIRE(kl[0] == Approx(0.5 * (1 + 1)));
  REQUIRE(kl[2] == Approx(0.5 * (0.01 + 0.01)));
}

TEST_CASE("KL closed form agrees with a Monte Carlo estimate", "[cpu][reparam_kl]") {
  // KL(q‖p) = E_q[log q(z) − log p(z)], estimated with 200000 draws of the engine's own ε.
  const int latent = 3;
  std::vector<double> ml = {0.7, -1.2, 2.0, /* log σ² */ -0.5, 0.3, 0.9};
  std::vector<double> means = {5, 0, 0, 0, 5, 0};
  std::vector<int32_t> labels = {1}, idx = {0}, chosen(1);
  PriorArgs p;
  p.kind = PriorKind::class_mean;
  p.num_means = 2;
  p.labels = labels.data();
  p.chosen = chosen.data();
  std::vector<double> kl(1);
  cpu::reparam_kl_forward<double>(ml.data(), idx.data(), 1, latent, p, means.data(), {}, 0, false,
                                  nullptr, latent, kl.data());
  const int draws = 200000;
  double estimate = 0;
  RngPosition rng{5, RngStream::sample, 0};
  for (int s = 0; s < draws; ++s) {
    double log_ratio = 0;
    for (int j = 0; j < latent; ++j) {
      double eps = normal_at(rng, s, j), sigma = std::exp(0.5 * ml[latent + j]);
      double z = ml[j] + sigma * eps, m = means[latent + j];
      log_ratio += -0.5 * eps * eps - std::log(sigma) + 0.5 * (z - m) * (z - m);
    }
    estimate += log_ratio / draws;
  }
  REQUIRE(kl[0] > 10.0);  // the prior mean is 5 away in dimension 1: a large KL
  REQUIRE(estimate == Approx(kl[0]).epsilon(0.01));
}

TEST_CASE("beta and lambda visibly change the loss and its gradient", "[cpu][reparam_kl]") {
  const int latent = 4;
  std::vector<float> ml = {0.5f, -0.2f, 0.1f, 0.3f, -0.1f, 0.2f, 0.0f, -0.3f};
  std::vector<int32_t> labels = {0}, idx = {0}, chosen(1);
  std::vector<float> dz(latent, 0.1f), grad_b1(2 * latent), grad_b5(2 * latent), kl_l1(1), kl_l5(1);
  for (float lambda : {1.0f, 5.0f}) {
    std::vector<float> means = {lambda, 0, 0, 0};
    PriorArgs p;
    p.kind = PriorKind::class_mean;
    p.num_means = 1;
    p.labels = labels.data();
    p.chosen = chosen.data();
    cpu::reparam_kl_forward<float>(ml.data(), idx.data(), 1, latent, p, means.data(), {}, 0, false,
                                   nullptr, latent, lambda == 1.0f ? kl_l1.data() : kl_l5.data());
    // KL grows with the distance to λ·e_0: ½(λ − 0.5)² term
    if (lambda == 5.0f) {
      REQUIRE(kl_l5[0] - kl_l1[0] == Approx(0.5 * (4.5 * 4.5 - 0.5 * 0.5)).epsilon(1e-5));
      cpu::reparam_kl_backward<float>(ml.data(), 1, latent, p, means.data(), {}, 0, dz.data(), latent, 1.0f, grad_b1.data());
      cpu::reparam_kl_backward<float>(ml.data(), 1, latent, p, means.data(), {}, 0, dz.data(), latent, 5.0f, grad_b5.data());
    }
  }
  // dL/dμ_0 = dz + β(μ_0 − λ): β = 5 moves it by 4·(0.5 − 5)
  REQUIRE(grad_b5[0] - grad_b1[0] == Approx(4 * (0.5 - 5.0)).epsilon(1e-5));
}

TEST_CASE("log-variance is clamped and gets no gradient beyond the clamp", "[cpu][reparam_kl]") {
  std::vector<float> ml = {0.0f, 80.0f};  // log σ² = 80 would overflow exp in float
  std::vector<int32_t> idx = {0};
  std::vector<float> z(1), kl(1), dz = {1.0f}, grad(2);
  PriorArgs p;
  cpu::reparam_kl_forward<float>(ml.data(), idx.data(), 1, 1, p, nullptr, {1, RngStream::train_noise, 1},
                                 0, true, z.data(), 1, kl.data());
  REQUIRE(std::isfinite(z[0]));
  REQUIRE(std::isfinite(kl[0]));
  cpu::reparam_kl_backward<float>(ml.data(), 1, 1, p, nullptr, {1, RngStream::train_noise, 1}, 0,
                                  dz.data(), 1, 1.0f, grad.data());
  REQUIRE(grad[1] == 0.0f);
}

TEST_CASE("Adam matches a direct implementation of PyTorch's update over several steps", "[cpu][adam]") {
  const int n = 37;
  std::vector<double> p = random_values(n, 50, -1, 1), m(n, 0), v(n, 0);
  std::vector<double> ref_p = p, ref_m(n, 0), ref_v(n, 0);
  AdamArgs args;
  args.lr = 0.01f;
  for (int step = 1; step <= 5; ++step) {
    std::vector<double> g = random_values(n, 60 + step, -1, 1);
    args.step = step;
    cpu::adam_step(p.data(), g.data(), m.data(), v.data(), n, args);
    for (int i = 0; i < n; ++i) {  // torch.optim.Adam, default (non-amsgrad) path
      ref_m[i] = 0.9 * ref_m[i] + 0.1 * g[i];
      ref_v[i] = 0.999 * ref_v[i] + 0.001 * g[i] * g[i];
      double mhat = ref_m[i] / (1 - std::pow(0.9, step)), vhat = ref_v[i] / (1 - std::pow(0.999, step));
      ref_p[i] -= 0.01 * mhat / (std::sqrt(vhat) + 1e-8);
    }
  }
  for (int i = 0; i < n; ++i) REQUIRE(p[i] == Approx(ref_p[i]).epsilon(1e-6));
}

TEST_CASE("gather turns uint8 rows into x/255 and writes one-hot labels beside them", "[cpu][gather]") {
  std::vector<uint8_t> images = {0, 255, 51, /**/ 102, 204, 1};
  std::vector<int32_t> labels = {2, 0}, idx = {1, 0};
  const int ld = 3 + 3;
  std::vector<float> x(2 * ld, -1.0f);
  cpu::gather_images<float>(images.data(), idx.data(), 2, 3, x.data(), ld);
  cpu::write_one_hot<float>(labels.data(), idx.data(), 2, 3, x.data() + 3, ld);
  REQUIRE(x[0] == Approx(102 / 255.0));
  REQUIRE(x[1] == Approx(204 / 255.0));
  REQUIRE(x[ld + 1] == 1.0f);
  REQUIRE(std::vector<float>(x.begin() + 3, x.begin() + 6) == std::vector<float>{1, 0, 0});
  REQUIRE(std::vector<float>(x.begin() + ld + 3, x.begin() + 2 * ld) == std::vector<float>{0, 0, 1});
}

TEST_CASE("vectorisable exp and log1p agree with the standard library to a few ulp", "[cpu][bce]") {
  double worst_exp = 0, worst_log = 0;
  for (int i = 0; i <= 200000; ++i) {
    float x = -87.0f * static_cast<float>(i) / 200000.0f;
    double ref = std::exp(static_cast<double>(x));
    worst_exp = std::max(worst_exp, std::fabs(cpu::exp_nonpositive(x) - ref) / ref);
    float e = static_cast<float>(i) / 200000.0f;
    double ref_log = std::log1p(static_cast<double>(e));
    if (e > 0) worst_log = std::max(worst_log, std::fabs(cpu::log1p_unit(e) - ref_log) / ref_log);
  }
  INFO("worst relative error: exp " << worst_exp << ", log1p " << worst_log);
  REQUIRE(worst_exp < 4 * FLT_EPSILON);
  REQUIRE(worst_log < 4 * FLT_EPSILON);
  REQUIRE(cpu::exp_nonpositive(0.0f) == 1.0f);
  REQUIRE(cpu::exp_nonpositive(-0.0f) == 1.0f);
  // below −87 (the clamp, done on the bit patterns): a finite number as good as 0, never garbage
  for (float x : {-87.5f, -1000.0f, -3e6f, -1e30f, -std::numeric_limits<float>::infinity(),
                  -std::numeric_limits<float>::quiet_NaN()}) {
    CAPTURE(x);
    const float e = cpu::exp_nonpositive(x);
    REQUIRE(e >= 0.0f);
    REQUIRE(e <= 2e-38f);
  }
  REQUIRE(cpu::log1p_unit(0.0f) == 0.0f);
}

TEST_CASE("float BCE (vectorised math) matches the double reference", "[cpu][bce]") {
  const int batch = 5, pixels = 300;
  std::vector<double> logits = random_values(batch * pixels, 70, -40, 40);
  std::vector<uint8_t> images(batch * pixels);
  for (size_t i = 0; i < images.size(); ++i) images[i] = static_cast<uint8_t>((i * 91) % 256);
  std::vector<int32_t> idx = {0, 1, 2, 3, 4};
  std::vector<double> loss(batch), grad(batch * pixels);
  cpu::bce_with_logits<double>(logits.data(), images.data(), idx.data(), batch, pixels, 0.5, loss.data(), grad.data());
  std::vector<float> fl(logits.begin(), logits.end()), floss(batch), fgrad(batch * pixels);
  cpu::bce_with_logits<float>(fl.data(), images.data(), idx.data(), batch, pixels, 0.5f, floss.data(), fgrad.data());
  for (int i = 0; i < batch; ++i) REQUIRE(floss[i] == Approx(loss[i]).epsilon(1e-5));
  for (size_t j = 0; j < grad.size(); ++j) REQUIRE(fgrad[j] == Approx(grad[j]).margin(1e-6));
}

TEST_CASE("a polled read returns the values at begin_read once, and nothing without one", "[cpu][read]") {
  CpuBackend backend(1);
  Buffer sums = backend.allocate(2 * sizeof(double));
  double values[2] = {3.5, -1.25}, got[2] = {0, 0};
  backend.upload(sums.as<void>(), values, sizeof values);
  REQUIRE_FALSE(backend.poll_read(got, sizeof got));  // nothing begun
  backend.begin_read(sums.as<void>(), sizeof values);
  values[0] = 99;  // later changes are not in the read
  backend.upload(sums.as<void>(), values, sizeof values);
  REQUIRE(backend.poll_read(got, sizeof got));
  REQUIRE(got[0] == 3.5);
  REQUIRE(got[1] == -1.25);
  REQUIRE_FALSE(backend.poll_read(got, sizeof got));  // taken once
  REQUIRE_THROWS_WITH(backend.begin_read(sums.as<void>(), kMaxPolledRead + 1), Catch::Contains("begin_read"));
  backend.begin_read(sums.as<void>(), sizeof values);
  REQUIRE_THROWS_WITH(backend.poll_read(got, sizeof(double)), Catch::Contains("poll_read"));
}

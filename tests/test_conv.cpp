// Convolutions of the CPU reference (engine/backend/cpu/conv.h, CpuBackend::conv_*) and the conv VAE
// (arch=conv): im2col + GEMM against the direct definition, both backward passes against finite
// differences in double, the float backend against the double reference, the whole conv model's
// gradient against finite differences for every method, and its checkpoint and config handling.
#include <catch2/catch.hpp>

#include <cfloat>
#include <cstdio>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/backend/cpu/conv.h"
#include "engine/backend/cpu/cpu_backend.h"
#include "engine/backend/cpu/gemm_naive.h"
#include "engine/config.h"
#include "engine/data/dataset.h"
#include "engine/io/safetensors.h"
#include "engine/nn/model.h"
#include "engine/train/checkpoint.h"
#include "engine/train/trainer.h"
#include "tests/fixtures.h"
#include "tests/test_helpers.h"
#include "tests/tiny_data.h"
#include "tests/tolerance.h"

using namespace cvae;

namespace {

// Odd on purpose: stride 1, 2 and 3, padding 0 to k−1, one channel and several, non-square
// images, a kernel as large as the padded image, the conv net's own two geometries.
std::vector<ConvGeometry> odd_geometries() {
  return {
      {2, 1, 8, 8, 3, 4, 2, 1},  {3, 2, 5, 7, 4, 3, 1, 1}, {1, 3, 9, 6, 2, 5, 3, 0},
      {2, 4, 6, 6, 5, 2, 2, 0},  {1, 1, 3, 3, 1, 5, 1, 1}, {2, 2, 7, 5, 3, 3, 2, 2},
      {4, 1, 28, 28, 6, 4, 2, 1}, {3, 6, 14, 14, 8, 4, 2, 1},
  };
}

// The three ops in double, through the same im2col/col2im templates the backend uses.
std::vector<double> forward(const ConvGeometry& g, const std::vector<double>& x,
                            const std::vector<double>& w) {
  const int m = static_cast<int>(cpu::conv_rows(g)), k = static_cast<int>(cpu::conv_cols(g));
  std::vector<double> cols(static_cast<size_t>(m) * k), y(g.y_count());
  cpu::im2col(g, x.data(), cols.data());
  cpu::gemm_naive(false, true, m, g.out_channels, k, 1.0, cols.data(), k, w.data(), k, 0.0,
                  y.data(), g.out_channels);
  return y;
}

std::vector<double> backward_data(const ConvGeometry& g, const std::vector<double>& dy,
                                  const std::vector<double>& w) {
  const int m = static_cast<int>(cpu::conv_rows(g)), k = static_cast<int>(cpu::conv_cols(g));
  std::vector<double> cols(static_cast<size_t>(m) * k), dx(g.x_count());
  cpu::gemm_naive(false, false, m, k, g.out_channels, 1.0, dy.data(), g.out_channels, w.data(),
                  k, 0.0, cols.data(), k);
  cpu::col2im(g, cols.data(), dx.data());
  return dx;
}

std::vector<double> backward_weights(const ConvGeometry& g, const std::vector<double>& x,
                                     const std::vector<double>& dy) {
  const int m = static_cast<int>(cpu::conv_rows(g)), k = static_cast<int>(cpu::conv_cols(g));
  std::vector<double> cols(static_cast<size_t>(m) * k), dw(g.w_count());
  cpu::im2col(g, x.data(), cols.data());
  cpu::gemm_naive(true, false, g.out_channels, k, m, 1.0, dy.data(), g.out_channels, cols.data(),
                  k, 0.0, dw.data(), k);
  return dw;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

std::vector<float> to_float(const std::vector<double>& v) { return {v.begin(), v.end()}; }

}  // namespace

TEST_CASE("im2col + GEMM convolution equals the direct definition on odd geometries", "[conv]") {
  uint64_t seed = 10;
  for (const ConvGeometry& g : odd_geometries()) {
    CAPTURE(g.batch, g.in_channels, g.height, g.width, g.out_channels, g.kernel, g.stride, g.padding);
    std::vector<double> x = test::random_values(g.x_count(), ++seed, -1, 1);
    std::vector<double> w = test::random_values(g.w_count(), ++seed, -1, 1);
    std::vector<double> direct(g.y_count());
    cpu::conv_forward_direct(g, x.data(), w.data(), direct.data());
    std::vector<double> via_gemm = forward(g, x, w);
    for (size_t i = 0; i < direct.size(); ++i) REQUIRE(via_gemm[i] == Approx(direct[i]).margin(1e-12));
  }
}

TEST_CASE("conv backward data and weights match finite differences in double", "[conv]") {
  // L = Σ y ⊙ r for a fixed random r: dL/dx = backward_data(r), dL/dw = backward_weights(x, r).
  uint64_t seed = 40;
  for (const ConvGeometry& g : odd_geometries()) {
    CAPTURE(g.batch, g.in_channels, g.height, g.width, g.out_channels, g.kernel, g.stride, g.padding);
    std::vector<double> x = test::random_values(g.x_count(), ++seed, -1, 1);
    std::vector<double> w = test::random_values(g.w_count(), ++seed, -1, 1);
    std::vector<double> r = test::random_values(g.y_count(), ++seed, -1, 1);
    std::vector<double> dx = backward_data(g, r, w), dw = backward_weights(g, x, r);
    auto loss = [&](const std::vector<double>& xs, const std::vector<double>& ws) {
      return dot(forward(g, xs, ws), r);
    };
    const double h = 1e-4;
    // Every 7th input and every 5th weight (all of them on the small cases), central differences.
    for (size_t i = 0; i < x.size(); i += x.size() > 200 ? 7 : 1) {
      std::vector<double> up = x, down = x;
      up[i] += h;
      down[i] -= h;
      double numeric = (loss(up, w) - loss(down, w)) / (2 * h);
      INFO("x[" << i << "]");
      REQUIRE(dx[i] == Approx(numeric).margin(1e-7));
    }
    for (size_t i = 0; i < w.size(); i += w.size() > 200 ? 5 : 1) {
      std::vector<double> up = w, down = w;
      up[i] += h;
      down[i] -= h;
      double numeric = (loss(x, up) - loss(x, down)) / (2 * h);
      INFO("w[" << i << "]");
      REQUIRE(dw[i] == Approx(numeric).margin(1e-7));
    }
  }
}

TEST_CASE("CPU backend conv ops in float match the double reference and overwrite every output",
          "[conv]") {
  CpuBackend backend(2);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  uint64_t seed = 70;
  for (ConvGeometry g : odd_geometries()) {
    g.batch += 1;  // different batches from the other tests
    CAPTURE(g.batch, g.in_channels, g.height, g.width, g.out_channels, g.kernel, g.stride, g.padding);
    std::vector<double> x = test::random_values(g.x_count(), ++seed, -1, 1);
    std::vector<double> w = test::random_values(g.w_count(), ++seed, -1, 1);
    std::vector<double> dy = test::random_values(g.y_count(), ++seed, -1, 1);
    // The double reference from the float-rounded inputs, and Σ|terms| for the float bound.
    std::vector<double> xf(x.begin(), x.end()), wf(w.begin(), w.end()), dyf(dy.begin(), dy.end());
    for (auto* v : {&xf, &wf, &dyf})
      for (double& e : *v) e = static_cast<float>(e);
    auto absolute = [](std::vector<double> v) {
      for (double& e : v) e = std::fabs(e);
      return v;
    };
    size_t bytes = backend.conv_prepare(g);
    std::vector<float> scratch(bytes / sizeof(float) + 1);
    std::vector<float> fx = to_float(xf), fw = to_float(wf), fdy = to_float(dyf);
    std::vector<float> y(g.y_count(), nan), dx(g.x_count(), nan), dw(g.w_count(), nan);
    backend.conv_forward(g, fx.data(), fw.data(), y.data(), scratch.data(), bytes);
    backend.conv_backward_data(g, fdy.data(), fw.data(), dx.data(), scratch.data(), bytes);
    backend.conv_backward_weights(g, fx.data(), fdy.data(), dw.data(), scratch.data(), bytes);

    auto check = [](const std::vector<float>& got, const std::vector<double>& ref,
                    const std::vector<double>& sums, int64_t terms, const char* what) {
      test::check_close(got, to_float(ref),
                        [&](size_t i) { return 1e-7 + (terms + 2) * FLT_EPSILON * sums[i]; }, what);
    };
    const int64_t field = int64_t(g.kernel) * g.kernel;
    check(y, forward(g, xf, wf), forward(g, absolute(xf), absolute(wf)), field * g.in_channels,
          "forward");
    check(dx, backward_data(g, dyf, wf), backward_data(g, absolute(dyf), absolute(wf)),
          field * g.out_channels, "backward data");
    check(dw, backward_weights(g, xf, dyf), backward_weights(g, absolute(xf), absolute(dyf)),
          int64_t(g.batch) * g.out_height() * g.out_width(), "backward weights");
  }
}

TEST_CASE("conv ops refuse bad geometry and short scratch with a message naming the op", "[conv]") {
  CpuBackend backend(1);
  ConvGeometry bad{1, 1, 4, 4, 1, 3, 0, 1};  // stride 0
  REQUIRE_THAT(test::error_of([&] { backend.conv_prepare(bad); }),
               Catch::Contains("conv_prepare") && Catch::Contains("stride"));
  ConvGeometry too_big{1, 1, 2, 2, 1, 5, 1, 1};  // kernel 5 over a 4×4 padded image
  REQUIRE_THAT(test::error_of([&] { backend.conv_prepare(too_big); }),
               Catch::Contains("kernel larger than the padded image"));
  ConvGeometry g{2, 1, 8, 8, 3, 4, 2, 1};
  std::vector<float> x(g.x_count()), w(g.w_count()), y(g.y_count()), scratch(4);
  REQUIRE_THAT(test::error_of([&] {
                 backend.conv_forward(g, x.data(), w.data(), y.data(), scratch.data(), 16);
               }),
               Catch::Contains("conv_forward") && Catch::Contains("scratch"));
}

namespace {

using test::tiny_conv_config;

}  // namespace

TEST_CASE("conv model gradient matches finite differences along random directions, every method",
          "[conv][model]") {
  for (Method method : all_methods()) {
    INFO("method " << method_name(method));
    CpuBackend backend(1);
    Config config = tiny_conv_config(method);
    DeviceSplit data = test::tiny_data(backend, 20, 64, 3, 5).split;
    ModelState state = make_model_state(backend, config, 64);
    REQUIRE(state.shape.arch == Arch::conv);
    REQUIRE(state.shape.conv_features() == 12);
    REQUIRE(state.shape.encoder_in() == (method == Method::cvae ? 15 : 12));
    if (method == Method::kmeans) fit_initial_centroids(backend, config, state, data);
    Workspace ws = make_workspace(backend, state.shape, 6, true);
    std::vector<int32_t> idx = {3, 1, 4, 15, 9, 2};
    BatchInput input{data.images.as<uint8_t>(), data.labels.as<int32_t>(), idx.data(), 6};
    PriorArgs prior = state.prior->args(data.labels.as<int32_t>());
    RngPosition rng{9, RngStream::train_noise, 3};
    const float kl_weight = static_cast<float>(config.beta);

    // Garbage in the gradient buffer first: the backward must overwrite every parameter's entry.
    backend.fill(state.grads.f32(), state.layout.total, 1e30f);
    model_forward(backend, state.shape, state.layout, state.params.f32(), ws, input, prior, rng, 0,
                  true, true);
    model_backward(backend, state.shape, state.layout, state.params.f32(), state.grads.f32(), ws,
                   input, prior, rng, 0, kl_weight);
    std::vector<float> grad(state.grads.f32(), state.grads.f32() + state.layout.total);
    std::vector<float> theta(state.params.f32(), state.params.f32() + state.layout.total);
    std::vector<bool> is_param(theta.size(), false);
    for (const NamedParam& p : named_params(state.layout, state.shape))
      for (int64_t i = 0; i < p.count(); ++i) is_param[p.offset + i] = true;

    auto loss_at = [&](double t, const std::vector<double>& direction) {
      for (size_t i = 0; i < theta.size(); ++i)
        state.params.f32()[i] = static_cast<float>(theta[i] + t * direction[i]);
      model_forward(backend, state.shape, state.layout, state.params.f32(), ws, input, prior, rng,
                    0, true, false);
      double total = 0;
      for (int i = 0; i < input.batch; ++i)
        total += ws.bce.f32()[i] + kl_weight * ws.kl.f32()[i];
      return total / input.batch;
    };
    for (uint32_t trial = 0; trial < 3; ++trial) {
      std::vector<double> direction = test::random_values(theta.size(), 200 + trial, -1, 1);
      double analytic = 0;
      for (size_t i = 0; i < theta.size(); ++i)
        if (is_param[i]) analytic += grad[i] * direction[i];
        else direction[i] = 0;  // alignment padding: no parameter there
      const double h = 2e-3;
      double numeric = (loss_at(h, direction) - loss_at(-h, direction)) / (2 * h);
      loss_at(0, direction);
      INFO("trial " << trial << " analytic " << analytic << " numeric " << numeric);
      REQUIRE(analytic == Approx(numeric).epsilon(0.02).margin(0.05));
    }
  }
}

TEST_CASE("conv VAE trains on tiny data: the loss falls and the checkpoint round-trips", "[conv][model]") {
  CpuBackend backend(2);
  Config config = tiny_conv_config(Method::lambdahot);
  config.epochs = 6;
  config.lr = 3e-3;
  DeviceSplit data = test::tiny_data(backend, 60, 64, 3, 6).split;
  ModelState state = make_model_state(backend, config, 64);
  std::vector<EpochRecord> epochs = train(backend, config, state, data, {});
  REQUIRE(epochs.size() == 6);
  REQUIRE(std::isfinite(epochs.back().loss));
  REQUIRE(epochs.back().loss < epochs.front().loss);

  std::string bytes = encode_checkpoint(backend, state, config, 6);
  test::ScratchDir dir;
  std::string path = dir.path + "/weights.safetensors";
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f);
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
  SafetensorsFile file = read_safetensors(path);
  REQUIRE(file.tensors.at("conv1.weight").shape == std::vector<int64_t>{2, 4, 4, 1});
  REQUIRE(file.tensors.at("conv2.weight").shape == std::vector<int64_t>{3, 4, 4, 2});
  REQUIRE(file.tensors.at("fc21.weight").shape == std::vector<int64_t>{5, 12});
  REQUIRE(file.tensors.at("fc3.weight").shape == std::vector<int64_t>{12, 5});
  REQUIRE(file.tensors.at("deconv1.weight").shape == std::vector<int64_t>{3, 4, 4, 2});
  REQUIRE(file.tensors.at("deconv2.bias").shape == std::vector<int64_t>{1});
  REQUIRE(file.tensors.count("fc1.weight") == 0);

  ModelState fresh = make_model_state(backend, config, 64);
  REQUIRE(restore_checkpoint(backend, fresh, path) == 6);
  std::vector<float> a = download_params(backend, state), b = download_params(backend, fresh);
  REQUIRE(a == b);

  // An MLP config cannot read a conv checkpoint: the error names the missing tensor.
  Config mlp = config;
  mlp.arch = "mlp";
  ModelState other = make_model_state(backend, mlp, 64);
  REQUIRE_THAT(test::error_of([&] { restore_checkpoint(backend, other, path); }),
               Catch::Contains("'fc1.weight' is missing"));
}

TEST_CASE("arch=conv is a config choice, and images it cannot take are refused", "[conv][config]") {
  Config config;
  apply_override(config, "arch=conv");
  apply_override(config, "conv1_channels=16");
  REQUIRE(config.arch == "conv");
  REQUIRE(config.conv1_channels == 16);
  REQUIRE_THAT(test::error_of([&] { apply_override(config, "arch=resnet"); }),
               Catch::Contains("arch"));
  REQUIRE_THAT(test::error_of([&] { apply_override(config, "conv2_channels=0"); }),
               Catch::Contains("conv2_channels"));
  CpuBackend backend(1);
  REQUIRE_THAT(test::error_of([&] { make_model_state(backend, config, 12); }),
               Catch::Contains("arch=conv needs square images") && Catch::Contains("12 pixels"));
  REQUIRE_THAT(test::error_of([&] { make_model_state(backend, config, 36); }),
               Catch::Contains("multiple of 4"));
}

// The CUDA backend against the CPU reference: every Backend op from the same seeded inputs, with
// output buffers poisoned with NaN on both backends first, and one whole training step (forward,
// backward, Adam) of each method with identical ε. Without a CUDA device every test says so with a
// WARN and passes: these tests are the GPU session's to run (scripts/gpu-check.sh).
// Tolerances (ε = FLT_EPSILON):
//   - gather, one-hot, bias + ReLU forward, the ReLU mask, fill, copy: exact;
//   - elementwise values through exp/log (reparam, BCE gradient, Adam): |Δ| ≤ 1e-5 + 4ε·|ref|;
//   - sums of n float terms (KL, BCE loss, dbias): |Δ| ≤ 1e-5 + (n + 4)·ε·Σ|term|;
//   - GEMM: |Δ| ≤ 1e-6 + (k + 2)·ε·(|α|·Σ_p |a_ip b_pj| + |β c_ij|), the float dot-product bound;
//   - sums kept in double (accumulate_sum, k-means sums): relative 1e-6;
//   - k-means assignments: exact, except where the two centroids' distances tie within 1e-5 relative;
//   - convolutions: each output is a dot product, so the GEMM bound with Σ|terms| computed as the
//     same op on absolute values;
//   - a training step (mlp and conv): per-sample losses relative 1e-4; each parameter tensor's gradient within
//     1e-4 of its norm (relative L2); after Adam, every parameter within 2·lr of the CPU's (a sign
//     flip of a gradient that is zero up to rounding moves a parameter by at most ±lr on each side)
//     and all but 0.1 % within 1e-5.
//
// Why one long file: every case compares the same two backends with the same helpers (poisoned
// buffers, the tolerances above), so a reader checks one op's case against the next; the cases are to
// become rows of one op table run over every backend pair, which will shrink this file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/backend/cpu/cpu_backend.h"
#include "engine/backend/cuda/cuda_backend.h"
#include "engine/config.h"
#include "engine/data/dataset.h"
#include "engine/nn/model.h"
#include "engine/train/trainer.h"
#include "report/tsne.h"
#include "tests/test_helpers.h"
#include "tests/tolerance.h"

using namespace cvae;
using cvae::test::check_close;
using cvae::test::check_exact;
using cvae::test::elementwise_tolerance;
using cvae::test::kFloatEps;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// The CUDA backend, or nullptr after a visible WARN when this machine has no CUDA device.
std::unique_ptr<Backend> cuda_or_skip() {
  if (cuda_device_count() == 0) {
    WARN("SKIPPED: no CUDA device here (cuda_device_count() == 0); run scripts/gpu-check.sh on a GPU machine");
    return nullptr;
  }
  return make_cuda_backend(0);
}

using test::random_bytes;
using test::random_floats;
using test::random_ints;

// The same host array in both backends' memory.
template <class T>
struct Twin {
  Buffer on_cpu, on_gpu;
  size_t count = 0;
  T* cpu() const { return on_cpu.as<T>(); }
  T* gpu() const { return on_gpu.as<T>(); }
};

struct Backends {
  CpuBackend cpu{2};
  std::unique_ptr<Backend> gpu;

  template <class T>
  Twin<T> twin(const std::vector<T>& host) {
    Twin<T> t;
    t.count = host.size();
    size_t bytes = sizeof(T) * std::max<size_t>(host.size(), 1);
    t.on_cpu = cpu.allocate(bytes);
    t.on_gpu = gpu->allocate(bytes);
    if (!host.empty()) {
      cpu.upload(t.on_cpu.template as<void>(), host.data(), sizeof(T) * host.size());
      gpu->upload(t.on_gpu.template as<void>(), host.data(), sizeof(T) * host.size());
    }
    return t;
  }
  template <class T>
  std::vector<T> read_cpu(const Twin<T>& t) { return read<T>(cpu, t.on_cpu, t.count); }
  template <class T>
  std::vector<T> read_gpu(const Twin<T>& t) { return read<T>(*gpu, t.on_gpu, t.count); }
  template <class T>
  static std::vector<T> read(Backend& backend, const Buffer& buffer, size_t count) {
    std::vector<T> host(count);
    if (count) backend.download(host.data(), buffer.as<void>(), sizeof(T) * count);
    return host;
  }
};

std::unique_ptr<Backends> backends_or_skip() {
  std::unique_ptr<Backend> gpu = cuda_or_skip();
  if (!gpu) return nullptr;
  auto both = std::make_unique<Backends>();
  both->gpu = std::move(gpu);
  return both;
}

// The nearest-mean choices of the GPU and the CPU for `batch` samples with μ in rows of `mu`
// (leading dimension ld): equal, except where the two means' squared distances tie within 1e-5
// relative — nvcc contracts d += diff·diff into fused multiply-adds, the CPU does not, so a
// near-tie may go either way. Returns how many differ (all of them near-ties).
int check_chosen_means(const std::vector<int32_t>& gpu, const std::vector<int32_t>& cpu,
                       const std::vector<float>& mu, int ld, int latent,
                       const std::vector<float>& means) {
  REQUIRE(gpu.size() == cpu.size());
  int differing = 0;
  for (size_t i = 0; i < gpu.size(); ++i) {
    if (gpu[i] == cpu[i]) continue;
    CAPTURE(i, gpu[i], cpu[i]);
    REQUIRE(gpu[i] >= 0);
    REQUIRE(size_t(gpu[i] + 1) * latent <= means.size());
    auto distance = [&](int m) {
      double d = 0;
      for (int j = 0; j < latent; ++j) {
        double diff = double(mu[i * ld + j]) - means[size_t(m) * latent + j];
        d += diff * diff;
      }
      return d;
    };
    const double dg = distance(gpu[i]), dc = distance(cpu[i]);
    REQUIRE(std::fabs(dg - dc) <= 1e-5 * std::max(dg, dc) + 1e-30);
    ++differing;
  }
  return differing;
}

// k-means++ on both backends: the same points, centre by centre, until the first centre where
// they differ — which must be a near-tie of the draw: the running sum of D between the two
// chosen points within 1e-9 of the target u_c·ΣD (the GPU's D, summed in another order with
// fused multiply-adds, differs from the CPU's in the last bits). After a legitimate difference
// the later centres differ too, and are not compared. Returns the number of centres compared.
int check_kmeans_plus_plus(const std::vector<float>& gpu, const std::vector<float>& cpu,
                           const std::vector<float>& points, int n, int dim, int ld, int k,
                           uint64_t seed) {
  auto row_of = [&](const std::vector<float>& centres, int c) -> int64_t {
    for (int64_t i = 0; i < n; ++i)
      if (std::memcmp(&points[size_t(i) * ld], &centres[size_t(c) * dim], sizeof(float) * dim) == 0) return i;
    return -1;
  };
  for (int c = 0; c < k; ++c) {
    if (std::memcmp(&gpu[size_t(c) * dim], &cpu[size_t(c) * dim], sizeof(float) * dim) == 0) continue;
    CAPTURE(c);
    REQUIRE(c > 0);  // the first centre is ⌊u₀·n⌋: no sum involved
    const int64_t g = row_of(gpu, c), s = row_of(cpu, c);
    REQUIRE(g >= 0);  // the GPU's centre is one of the points
    std::vector<double> nearest(n, std::numeric_limits<double>::infinity());
    double total = 0;
    for (int64_t i = 0; i < n; ++i) {
      for (int earlier = 0; earlier < c; ++earlier) {
        double d = 0;
        for (int j = 0; j < dim; ++j) {
          double diff = double(points[size_t(i) * ld + j]) - cpu[size_t(earlier) * dim + j];
          d += diff * diff;
        }
        nearest[i] = std::min(nearest[i], d);
      }
      total += nearest[i];
    }
    REQUIRE(total > 0);
    const double target = uniform_at(RngPosition{seed, RngStream::kmeans_init, 0}, uint32_t(c), 0) * total;
    double running = 0;
    for (int64_t i = 0; i < std::max(g, s); ++i) {
      running += nearest[i];
      if (i >= std::min(g, s)) REQUIRE(std::fabs(running - target) <= 1e-9 * total);
    }
    WARN("k-means++: centre " << c << " differs at a near-tie of the draw (GPU point " << g << ", CPU point " << s
                              << "); later centres not compared");
    return c;
  }
  return k;
}

}  // namespace

TEST_CASE("CUDA backend names its device, zero-fills allocations and round-trips memory", "[gpu][memory]") {
  auto b = backends_or_skip();
  if (!b) return;
  REQUIRE(b->gpu->name() == "cuda");
  INFO(b->gpu->device_description());
  REQUIRE(!b->gpu->device_description().empty());
  Buffer zeros = b->gpu->allocate(sizeof(float) * 1000);
  std::vector<float> host(1000, kNaN);
  b->gpu->download(host.data(), zeros.as<void>(), sizeof(float) * 1000);
  REQUIRE(host == std::vector<float>(1000, 0.0f));

  std::vector<float> values = random_floats(1001, 1, -5, 5);
  Twin<float> source = b->twin(values), target = b->twin(std::vector<float>(1001, kNaN));
  b->gpu->copy(target.gpu() + 1, source.gpu(), sizeof(float) * 1000);
  b->cpu.copy(target.cpu() + 1, source.cpu(), sizeof(float) * 1000);
  check_exact(b->read_gpu(target), b->read_cpu(target), "copy");
  b->gpu->fill(target.gpu(), 999, 0.5f);
  b->cpu.fill(target.cpu(), 999, 0.5f);
  check_exact(b->read_gpu(target), b->read_cpu(target), "fill");
}

TEST_CASE("CUDA polled read: arrives after the queued work, without waiting for it, once", "[gpu][read]") {
  auto gpu = cuda_or_skip();
  if (!gpu) return;
  Buffer sums = gpu->allocate(2 * sizeof(double));
  double values[2] = {3.5, -1.25}, got[2] = {0, 0};
  gpu->upload(sums.as<void>(), values, sizeof values);
  REQUIRE_FALSE(gpu->poll_read(got, sizeof got));  // nothing begun
  // queue a lot of work first, then the read: polling does not wait for it
  Buffer big = gpu->allocate(sizeof(float) << 26);
  for (int i = 0; i < 20; ++i) gpu->fill(big.f32(), int64_t(1) << 26, float(i));
  gpu->begin_read(sums.as<void>(), sizeof values);
  int polls = 0;
  while (!gpu->poll_read(got, sizeof got)) ++polls;
  INFO("polls before the read arrived: " << polls);
  REQUIRE(polls > 0);  // the read was still on its way at least once: NotReady was seen
  REQUIRE(got[0] == 3.5);
  REQUIRE(got[1] == -1.25);
  REQUIRE_FALSE(gpu->poll_read(got, sizeof got));  // taken once
  // A NotReady answer is not a failure: the next kernel launch (whose launcher checks
  // cudaGetLastError) and the next cuBLAS call must go through and compute.
  gpu->fill(big.f32(), 1000, 2.5f);
  Buffer product = gpu->allocate(sizeof(float));
  gpu->gemm(false, true, 1, 1, 1000, 1.0f, big.f32(), 1000, big.f32(), 1000, 0.0f, product.f32(), 1);
  float dot = 0;
  gpu->download(&dot, product.as<void>(), sizeof dot);
  REQUIRE(dot == 6250.0f);
}

TEST_CASE("CUDA backend errors name the op or the call", "[gpu][errors]") {
  auto b = backends_or_skip();
  if (!b) return;
  Buffer a = b->gpu->allocate(64 * sizeof(float));
  REQUIRE_THROWS_WITH(b->gpu->gemm(false, false, 4, 4, 4, 1, a.f32(), 3, a.f32(), 4, 0, a.f32(), 4),
                      Catch::Contains("gemm") && Catch::Contains("leading dimension"));
  REQUIRE_THROWS_WITH(make_cuda_backend(cuda_device_count()), Catch::Contains("not present"));
  // device=cuda:N: N counts the devices this process sees
  const std::string beyond = "cuda:" + std::to_string(cuda_device_count());
  REQUIRE_THROWS_WITH(make_backend(beyond, 1), Catch::Contains("device=" + beyond + ": there ") &&
                                                   Catch::Contains("CUDA_VISIBLE_DEVICES"));
  REQUIRE(make_backend("cuda:0", 1)->name() == "cuda");
  // the two switches read from the environment refuse what they do not understand, by name
  setenv("CLUSTERVAE_CUBLASLT", "maybe", 1);
  REQUIRE_THROWS_WITH(make_cuda_backend(0), Catch::Contains("CLUSTERVAE_CUBLASLT"));
  unsetenv("CLUSTERVAE_CUBLASLT");
  setenv("CLUSTERVAE_LLOYD_GEMM_MIN_K", "0", 1);
  REQUIRE_THROWS_WITH(make_cuda_backend(0), Catch::Contains("CLUSTERVAE_LLOYD_GEMM_MIN_K"));
  unsetenv("CLUSTERVAE_LLOYD_GEMM_MIN_K");
}

TEST_CASE("CUDA GEMM matches the CPU for every transpose, odd sizes, padded ld, beta 0 and not", "[gpu][gemm]") {
  auto b = backends_or_skip();
  if (!b) return;
  struct Shape { int m, n, k; };
  // (k = 0 is left out: oneDNN leaves C untouched there while BLAS and cuBLAS scale it by beta.)
  for (Shape s : {Shape{1, 1, 1}, Shape{37, 29, 70}, Shape{128, 400, 784}}) {
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb)
        for (float beta : {0.0f, 0.5f}) {
          CAPTURE(s.m, s.n, s.k, ta, tb, beta);
          const float alpha = 1.25f;
          const int a_rows = ta ? s.k : s.m, a_cols = ta ? s.m : s.k;
          const int b_rows = tb ? s.n : s.k, b_cols = tb ? s.k : s.n;
          const int lda = a_cols + 3, ldb = b_cols + 1, ldc = s.n + 2;
          std::vector<float> a = random_floats(size_t(std::max(a_rows, 1)) * lda, 2, -1, 1);
          std::vector<float> bm = random_floats(size_t(std::max(b_rows, 1)) * ldb, 3, -1, 1);
          std::vector<float> c = beta == 0 ? std::vector<float>(size_t(s.m) * ldc, kNaN)
                                           : random_floats(size_t(s.m) * ldc, 4, -1, 1);
          for (int i = 0; i < s.m; ++i)
            for (int j = s.n; j < ldc; ++j) c[size_t(i) * ldc + j] = kNaN;  // beyond the row: untouched
          Twin<float> ta_ = b->twin(a), tb_ = b->twin(bm), tc = b->twin(c);
          b->gpu->gemm(ta, tb, s.m, s.n, s.k, alpha, ta_.gpu(), lda, tb_.gpu(), ldb, beta, tc.gpu(), ldc);
          b->cpu.gemm(ta, tb, s.m, s.n, s.k, alpha, ta_.cpu(), lda, tb_.cpu(), ldb, beta, tc.cpu(), ldc);
          std::vector<float> ref = b->read_cpu(tc);
          std::vector<double> magnitude(ref.size(), 0.0);
          for (int i = 0; i < s.m; ++i)
            for (int j = 0; j < s.n; ++j) {
              double sum = 0;
              for (int p = 0; p < s.k; ++p) {
                float av = ta ? a[size_t(p) * lda + i] : a[size_t(i) * lda + p];
                float bv = tb ? bm[size_t(j) * ldb + p] : bm[size_t(p) * ldb + j];
                sum += std::fabs(double(av) * bv);
              }
              double cv = beta == 0 ? 0.0 : std::fabs(double(beta) * c[size_t(i) * ldc + j]);
              magnitude[size_t(i) * ldc + j] = std::fabs(alpha) * sum + cv;
            }
          check_close(b->read_gpu(tc), ref,
                      [&](size_t i) { return 1e-6 + (s.k + 2) * kFloatEps * magnitude[i]; }, "C");
        }
  }
}

TEST_CASE("CUDA bias + ReLU forward and backward match the CPU, dbias within the float sum bound",
          "[gpu][bias_act]") {
  auto b = backends_or_skip();
  if (!b) return;
  struct Shape { int rows, cols; };
  std::vector<Shape> shapes;
  for (int rows : {1, 9, 128})
    for (int cols : {1, 37, 400}) shapes.push_back({rows, cols});
  // the conv net's bias layers at batch 128 (rows = batch·height·width), split into row chunks
  for (Shape s : {Shape{100352, 1}, Shape{25088, 32}, Shape{6272, 64}, Shape{3001, 33}}) shapes.push_back(s);
  for (Activation act : {Activation::none, Activation::relu})
    for (Shape shape : shapes) {
      const int rows = shape.rows, cols = shape.cols;
      CAPTURE(int(act), rows, cols);
      const int ld = cols + 3;
      std::vector<float> y = random_floats(size_t(rows) * ld, 5, -2, 2);
      for (int r = 0; r < rows; ++r)
        for (int c = cols; c < ld; ++c) y[size_t(r) * ld + c] = kNaN;
      std::vector<float> bias = random_floats(cols, 6, -1, 1);
      Twin<float> ty = b->twin(y), tbias = b->twin(bias);
      b->gpu->bias_act_forward(ty.gpu(), ld, tbias.gpu(), rows, cols, act);
      b->cpu.bias_act_forward(ty.cpu(), ld, tbias.cpu(), rows, cols, act);
      check_exact(b->read_gpu(ty), b->read_cpu(ty), "forward");

      std::vector<float> dy = random_floats(size_t(rows) * ld, 7, -1, 1);
      for (int r = 0; r < rows; ++r)
        for (int c = cols; c < ld; ++c) dy[size_t(r) * ld + c] = kNaN;
      Twin<float> tdy = b->twin(dy), tdbias = b->twin(std::vector<float>(cols + 1, kNaN));
      b->gpu->bias_act_backward(tdy.gpu(), ld, ty.gpu(), ld, tdbias.gpu(), rows, cols, act);
      b->cpu.bias_act_backward(tdy.cpu(), ld, ty.cpu(), ld, tdbias.cpu(), rows, cols, act);
      std::vector<float> masked = b->read_cpu(tdy);
      check_exact(b->read_gpu(tdy), masked, "masked dy");
      std::vector<double> magnitude(cols + 1, 0.0);
      for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) magnitude[c] += std::fabs(masked[size_t(r) * ld + c]);
      check_close(b->read_gpu(tdbias), b->read_cpu(tdbias),
                  [&](size_t c) { return 1e-5 + (rows + 4) * kFloatEps * magnitude[c]; }, "dbias");
    }
}

TEST_CASE("CUDA linear + bias + ReLU (cuBLASLt epilogue, and without it) matches the CPU's GEMM + bias_act",
          "[gpu][linear]") {
  auto b = backends_or_skip();
  if (!b) return;
  // the same op with the fused cuBLASLt path turned off: the GEMM and the bias_act kernel
  setenv("CLUSTERVAE_CUBLASLT", "0", 1);
  std::unique_ptr<Backend> unfused = make_cuda_backend(0);
  unsetenv("CLUSTERVAE_CUBLASLT");
  struct Shape { int rows, out, in; };
  // Where the operands sit: as the model lays them out (every tensor at a 256-byte boundary, rows
  // dense), padded rows (x and y pitches of 8 bytes), and the bias one float off a 16-byte
  // boundary — which the fused path must refuse (a kernel may read the bias 16 bytes at a time)
  // and hand to GEMM + bias_act.
  enum class Placement { model, padded_rows, bias_misaligned };
  // the MLP's layers at batch 128 and the last smaller batch (96), odd shapes, one row
  for (Shape s : {Shape{128, 400, 784}, Shape{128, 40, 400}, Shape{96, 784, 400}, Shape{1, 3, 5},
                  Shape{37, 29, 70}})
    for (Placement place : {Placement::model, Placement::padded_rows, Placement::bias_misaligned})
    for (Activation act : {Activation::none, Activation::relu}) {
      CAPTURE(s.rows, s.out, s.in, int(place), int(act));
      const bool padded = place == Placement::padded_rows;
      const int ld_x = padded ? s.in + 2 : s.in, ld_y = padded ? s.out + 2 : s.out;
      std::vector<float> x = random_floats(size_t(s.rows) * ld_x, 8, 0, 1);
      // w at the start of the flat buffer, the bias at the next 64-float boundary (or one past it)
      const size_t w_count = size_t(s.out) * s.in;
      const size_t bias_at = (w_count + 63) / 64 * 64 + (place == Placement::bias_misaligned ? 1 : 0);
      std::vector<float> params = random_floats(bias_at + s.out, 9, -0.1, 0.1);
      std::vector<float> y(size_t(s.rows) * ld_y, kNaN);  // columns out..ld_y: must stay NaN
      std::vector<float> ref;
      {
        Buffer cx = b->cpu.allocate(sizeof(float) * x.size()), cp = b->cpu.allocate(sizeof(float) * params.size()),
               cy = b->cpu.allocate(sizeof(float) * y.size());
        b->cpu.upload(cx.as<void>(), x.data(), sizeof(float) * x.size());
        b->cpu.upload(cp.as<void>(), params.data(), sizeof(float) * params.size());
        b->cpu.upload(cy.as<void>(), y.data(), sizeof(float) * y.size());
        b->cpu.linear_bias_act(s.rows, s.out, s.in, cx.f32(), ld_x, cp.f32(), cp.f32() + bias_at, cy.f32(), ld_y, act);
        ref = Backends::read<float>(b->cpu, cy, y.size());
      }
      std::vector<double> magnitude(y.size(), 0.0);
      for (int r = 0; r < s.rows; ++r)
        for (int o = 0; o < s.out; ++o) {
          double m = std::fabs(params[bias_at + o]);
          for (int i = 0; i < s.in; ++i) m += std::fabs(double(x[size_t(r) * ld_x + i]) * params[size_t(o) * s.in + i]);
          magnitude[size_t(r) * ld_y + o] = m;
        }
      for (Backend* gpu : {b->gpu.get(), unfused.get()}) {
        Buffer gx = gpu->allocate(sizeof(float) * x.size()), gp = gpu->allocate(sizeof(float) * params.size()),
               gy = gpu->allocate(sizeof(float) * y.size());
        gpu->upload(gx.as<void>(), x.data(), sizeof(float) * x.size());
        gpu->upload(gp.as<void>(), params.data(), sizeof(float) * params.size());
        gpu->upload(gy.as<void>(), y.data(), sizeof(float) * y.size());
        const Backend::Counters before = gpu->counters();
        gpu->linear_bias_act(s.rows, s.out, s.in, gx.f32(), ld_x, gp.f32(), gp.f32() + bias_at, gy.f32(), ld_y, act);
        const Backend::Counters after = gpu->counters();
        const bool took_fused = after.fused_linear == before.fused_linear + 1;
        REQUIRE(took_fused != (after.unfused_linear == before.unfused_linear + 1));  // one path, counted once
        if (gpu == unfused.get() || place == Placement::bias_misaligned) REQUIRE_FALSE(took_fused);
        // the model's own layout and the MLP's shapes: cuBLASLt has an FP32 epilogue kernel for them
        if (gpu == b->gpu.get() && place == Placement::model && s.rows >= 96) REQUIRE(took_fused);
        // ReLU moves no two values further apart, so the GEMM bound holds after it too
        check_close(Backends::read<float>(*gpu, gy, y.size()), ref,
                    [&](size_t i) { return 1e-6 + (s.in + 3) * kFloatEps * magnitude[i]; },
                    took_fused ? "y (cuBLASLt epilogue)" : "y (GEMM + bias_act)");
      }
    }
}

TEST_CASE("CUDA gather and one-hot write the same batch as the CPU, leaving the rest of the row alone",
          "[gpu][gather]") {
  auto b = backends_or_skip();
  if (!b) return;
  const int set = 50, pixels = 784, classes = 10;
  for (int batch : {1, 7, 128}) {
    CAPTURE(batch);
    const int ld = pixels + classes + 5;
    Twin<uint8_t> images = b->twin(random_bytes(size_t(set) * pixels, 8));
    Twin<int32_t> labels = b->twin(random_ints(set, 9, classes));
    Twin<int32_t> indices = b->twin(random_ints(batch, 10, set));
    Twin<float> x = b->twin(std::vector<float>(size_t(batch) * ld, kNaN));
    b->gpu->gather_images(images.gpu(), indices.gpu(), batch, pixels, x.gpu(), ld);
    b->gpu->write_one_hot(labels.gpu(), indices.gpu(), batch, classes, x.gpu() + pixels, ld);
    b->cpu.gather_images(images.cpu(), indices.cpu(), batch, pixels, x.cpu(), ld);
    b->cpu.write_one_hot(labels.cpu(), indices.cpu(), batch, classes, x.cpu() + pixels, ld);
    check_exact(b->read_gpu(x), b->read_cpu(x), "x");
  }
}

TEST_CASE("CUDA reparam + KL forward and backward match the CPU for all three priors with the same ε",
          "[gpu][reparam_kl]") {
  auto b = backends_or_skip();
  if (!b) return;
  struct Case { PriorKind kind; int num_means; };
  for (Case pc : {Case{PriorKind::standard, 0}, Case{PriorKind::class_mean, 10},
                  Case{PriorKind::nearest_centroid, 1}, Case{PriorKind::nearest_centroid, 10},
                  Case{PriorKind::nearest_centroid, 40}})
    for (int batch : {1, 9, 128})
      for (int latent : {3, 20, 37}) {
        CAPTURE(int(pc.kind), pc.num_means, batch, latent);
        std::vector<float> mu_logvar = random_floats(size_t(batch) * 2 * latent, 11, -3, 3);
        mu_logvar[latent] = 25.0f;                    // beyond the clamp: no gradient
        mu_logvar[latent + (latent > 1 ? 1 : 0)] = -25.0f;
        std::vector<float> means = random_floats(size_t(std::max(pc.num_means, 1)) * latent, 12, -3, 3);
        Twin<float> tml = b->twin(mu_logvar), tmeans = b->twin(means);
        Twin<int32_t> labels = b->twin(random_ints(200, 13, std::max(pc.num_means, 1)));
        Twin<int32_t> indices = b->twin(random_ints(batch, 14, 200));
        Twin<int32_t> chosen = b->twin(std::vector<int32_t>(batch, -7));
        const int ld_z = latent + 10;
        Twin<float> z = b->twin(std::vector<float>(size_t(batch) * ld_z, kNaN));
        Twin<float> kl = b->twin(std::vector<float>(batch, kNaN));
        auto prior_on = [&](bool gpu) {
          PriorArgs p;
          p.kind = pc.kind;
          p.means = pc.num_means ? (gpu ? tmeans.gpu() : tmeans.cpu()) : nullptr;
          p.num_means = pc.num_means;
          p.labels = gpu ? labels.gpu() : labels.cpu();
          p.chosen = gpu ? chosen.gpu() : chosen.cpu();
          return p;
        };
        const RngPosition rng{2024, RngStream::train_noise, 3};
        b->gpu->reparam_kl_forward(tml.gpu(), indices.gpu(), batch, latent, prior_on(true), rng, 5, true, z.gpu(),
                                   ld_z, kl.gpu());
        b->cpu.reparam_kl_forward(tml.cpu(), indices.cpu(), batch, latent, prior_on(false), rng, 5, true, z.cpu(),
                                  ld_z, kl.cpu());
        if (pc.kind == PriorKind::nearest_centroid)
          check_chosen_means(b->read_gpu(chosen), b->read_cpu(chosen), mu_logvar, 2 * latent, latent, means);
        else
          REQUIRE(b->read_gpu(chosen) == b->read_cpu(chosen));  // the label, or −1: no arithmetic
        std::vector<float> ref_z = b->read_cpu(z), ref_kl = b->read_cpu(kl);
        check_close(b->read_gpu(z), ref_z, elementwise_tolerance(ref_z), "z");
        check_close(b->read_gpu(kl), ref_kl,
                    [&](size_t i) { return 1e-5 + (latent + 4) * kFloatEps * 2 * std::fabs(double(ref_kl[i])); }, "kl");

        const int ld_dz = latent + 1;
        Twin<float> dz = b->twin(random_floats(size_t(batch) * ld_dz, 15, -1, 1));
        Twin<float> grad = b->twin(std::vector<float>(size_t(batch) * 2 * latent, kNaN));
        b->gpu->reparam_kl_backward(tml.gpu(), indices.gpu(), batch, latent, prior_on(true), rng, 5, dz.gpu(), ld_dz,
                                    0.3f, grad.gpu());
        b->cpu.reparam_kl_backward(tml.cpu(), indices.cpu(), batch, latent, prior_on(false), rng, 5, dz.cpu(), ld_dz,
                                   0.3f, grad.cpu());
        std::vector<float> ref_grad = b->read_cpu(grad), got = b->read_gpu(grad);
        check_close(got, ref_grad, elementwise_tolerance(ref_grad), "d(mu, logvar)");
        REQUIRE(got[latent] == 0.0f);
      }
}

TEST_CASE("CUDA BCE-with-logits loss and gradient match the CPU, with and without the gradient", "[gpu][bce]") {
  auto b = backends_or_skip();
  if (!b) return;
  const int set = 40;
  for (int batch : {1, 5, 128})
    for (int pixels : {1, 257, 784})
      for (bool with_grad : {true, false}) {
        CAPTURE(batch, pixels, with_grad);
        std::vector<float> logits = random_floats(size_t(batch) * pixels, 16, -30, 30);
        logits[0] = 0.0f;
        Twin<float> tl = b->twin(logits);
        Twin<uint8_t> images = b->twin(random_bytes(size_t(set) * pixels, 17));
        Twin<int32_t> indices = b->twin(random_ints(batch, 18, set));
        Twin<float> loss = b->twin(std::vector<float>(batch, kNaN));
        Twin<float> grad = b->twin(std::vector<float>(size_t(batch) * pixels, kNaN));
        const float scale = 1.0f / batch;
        b->gpu->bce_with_logits(tl.gpu(), images.gpu(), indices.gpu(), batch, pixels, scale, loss.gpu(),
                                with_grad ? grad.gpu() : nullptr);
        b->cpu.bce_with_logits(tl.cpu(), images.cpu(), indices.cpu(), batch, pixels, scale, loss.cpu(),
                               with_grad ? grad.cpu() : nullptr);
        std::vector<float> ref_loss = b->read_cpu(loss), ref_grad = b->read_cpu(grad);
        check_close(b->read_gpu(loss), ref_loss,
                    [&](size_t i) { return 1e-5 + (pixels + 4) * kFloatEps * std::fabs(double(ref_loss[i])); }, "loss");
        check_close(b->read_gpu(grad), ref_grad,
                    [&](size_t j) { return 4 * kFloatEps * (scale + std::fabs(double(ref_grad[j]))); }, "dlogits");
      }
}

TEST_CASE("CUDA Adam matches the CPU over several steps on the flat buffer, aligned and not", "[gpu][adam]") {
  auto b = backends_or_skip();
  if (!b) return;
  for (int count : {1, 1001, 300000})
    for (int misalign : {0, 1}) {
      CAPTURE(count, misalign);
      Twin<float> params = b->twin(random_floats(count + 4, 19, -1, 1));
      Twin<float> m = b->twin(std::vector<float>(count + 4, 0.0f)), v = b->twin(std::vector<float>(count + 4, 0.0f));
      AdamArgs args;
      for (int64_t step = 1; step <= 3; ++step) {
        Twin<float> grads = b->twin(random_floats(count + 4, 20, -1, 1, uint32_t(step)));
        args.step = step;
        b->gpu->adam_step(params.gpu() + misalign, grads.gpu() + misalign, m.gpu() + misalign, v.gpu() + misalign,
                          count, args);
        b->cpu.adam_step(params.cpu() + misalign, grads.cpu() + misalign, m.cpu() + misalign, v.cpu() + misalign,
                         count, args);
      }
      for (const Twin<float>* t : {&params, &m, &v}) {
        std::vector<float> ref = b->read_cpu(*t);
        check_close(b->read_gpu(*t), ref, elementwise_tolerance(ref), "adam state");
      }
    }
}

TEST_CASE("CUDA accumulate_sum adds the batch sum to a double accumulator on the device", "[gpu][reduce]") {
  auto b = backends_or_skip();
  if (!b) return;
  for (int count : {1, 128, 10000}) {
    CAPTURE(count);
    std::vector<float> values = random_floats(count, 21, -10, 10);
    Twin<float> tv = b->twin(values);
    Twin<double> acc = b->twin(std::vector<double>{2.5, 42.0});
    b->gpu->accumulate_sum(tv.gpu(), count, acc.gpu());
    b->gpu->accumulate_sum(tv.gpu(), count, acc.gpu());
    b->cpu.accumulate_sum(tv.cpu(), count, acc.cpu());
    b->cpu.accumulate_sum(tv.cpu(), count, acc.cpu());
    std::vector<double> got = b->read_gpu(acc), ref = b->read_cpu(acc);
    double magnitude = 2.5;
    for (float v : values) magnitude += 2 * std::fabs(v);
    REQUIRE(std::fabs(got[0] - ref[0]) <= 1e-12 * magnitude);
    REQUIRE(got[1] == 42.0);
  }
}

TEST_CASE("CUDA Lloyd assign (direct and GEMM route) and accumulate match the CPU: K = 1, an empty cluster",
          "[gpu][lloyd]") {
  auto b = backends_or_skip();
  if (!b) return;
  // K < 64: the direct kernel; K >= 64: the GEMM route (n = 70000 with K = 256 takes two tiles).
  for (int n : {1, 1000, 60000, 70000})
    for (int k : {1, 10, 40, 70, 256}) {
      if (k > n || (n == 70000 && k != 256)) continue;
      CAPTURE(n, k);
      const int dim = 20, ld = 40;  // the μ columns of [μ | log σ²]
      std::vector<float> points = random_floats(size_t(n) * ld, 22, -3, 3);
      std::vector<float> centroids = random_floats(size_t(k) * dim, 23, -3, 3);
      Twin<float> tp = b->twin(points), tc = b->twin(centroids);
      Twin<int32_t> assignment = b->twin(std::vector<int32_t>(n, -7));
      Twin<float> distance = b->twin(std::vector<float>(n, kNaN));
      b->gpu->lloyd_assign(tp.gpu(), n, dim, ld, tc.gpu(), k, assignment.gpu(), distance.gpu());
      b->cpu.lloyd_assign(tp.cpu(), n, dim, ld, tc.cpu(), k, assignment.cpu(), distance.cpu());
      std::vector<int32_t> got = b->read_gpu(assignment), ref = b->read_cpu(assignment);
      auto exact_distance = [&](int i, int c) {
        double d = 0;
        for (int j = 0; j < dim; ++j) {
          double diff = double(points[size_t(i) * ld + j]) - centroids[size_t(c) * dim + j];
          d += diff * diff;
        }
        return d;
      };
      auto squared_norm = [&](const float* row) {
        double s = 0;
        for (int j = 0; j < dim; ++j) s += double(row[j]) * row[j];
        return s;
      };
      int differing = 0;
      for (int i = 0; i < n; ++i)
        if (got[i] != ref[i]) {
          INFO("point " << i << ": cuda " << got[i] << ", cpu " << ref[i]);
          REQUIRE(got[i] >= 0);
          REQUIRE(got[i] < k);
          double dg = exact_distance(i, got[i]), dc = exact_distance(i, ref[i]);
          // a near-tie: either answer is right. The GEMM route's scores ‖c‖² − 2p·c round at the
          // scale of ‖p‖² + ‖c‖², the direct route's at the scale of the distance.
          double scale = squared_norm(&points[size_t(i) * ld]) + squared_norm(&centroids[size_t(got[i]) * dim]) +
                         squared_norm(&centroids[size_t(ref[i]) * dim]);
          REQUIRE(std::fabs(dg - dc) <= 1e-5 * (1 + dc) + (k >= 64 ? 64 * kFloatEps * scale : 0.0));
          ++differing;
        }
      REQUIRE(differing <= n / 1000 + 1);
      std::vector<float> ref_distance = b->read_cpu(distance), got_distance = b->read_gpu(distance);
      for (int i = 0; i < n; ++i)  // the distance to each point's own centroid, computed directly
        if (got[i] != ref[i]) got_distance[i] = ref_distance[i] = float(exact_distance(i, got[i]));
      check_close(got_distance, ref_distance,
                  [&](size_t i) { return 1e-6 + (dim + 4) * kFloatEps * std::fabs(double(ref_distance[i])); }, "distance");

      // accumulate from one assignment (the CPU's), with the last cluster left empty when k > 1
      std::vector<int32_t> a = ref;
      for (int32_t& c : a)
        if (k > 1 && c == k - 1) c = 0;
      Twin<int32_t> ta = b->twin(a);
      Twin<float> sums = b->twin(std::vector<float>(size_t(k) * dim, kNaN)), counts = b->twin(std::vector<float>(k, kNaN));
      b->gpu->lloyd_accumulate(tp.gpu(), n, dim, ld, ta.gpu(), k, sums.gpu(), counts.gpu());
      b->cpu.lloyd_accumulate(tp.cpu(), n, dim, ld, ta.cpu(), k, sums.cpu(), counts.cpu());
      check_exact(b->read_gpu(counts), b->read_cpu(counts), "counts");
      std::vector<float> ref_sums = b->read_cpu(sums);
      check_close(b->read_gpu(sums), ref_sums, [&](size_t i) { return 1e-6 * (1 + std::fabs(double(ref_sums[i]))); }, "sums");
      if (k > 1) REQUIRE(b->read_gpu(counts)[k - 1] == 0.0f);
    }
}

TEST_CASE("CUDA Lloyd change count and update match the CPU exactly, with an empty cluster", "[gpu][lloyd]") {
  auto b = backends_or_skip();
  if (!b) return;
  for (int n : {1, 1000, 1000000})
    for (int k : {1, 10, 256}) {
      CAPTURE(n, k);
      const int dim = 20;
      std::vector<int32_t> assignment = random_ints(n, 25, k), previous = assignment;
      for (int i = 0; i < n; i += 5) previous[i] = -1;
      Twin<int32_t> ta = b->twin(assignment), tp = b->twin(previous), status = b->twin(std::vector<int32_t>{-5, -5});
      b->gpu->lloyd_count_changes(ta.gpu(), tp.gpu(), n, status.gpu());
      b->cpu.lloyd_count_changes(ta.cpu(), tp.cpu(), n, status.cpu());
      REQUIRE(b->read_gpu(status) == b->read_cpu(status));
      REQUIRE(b->read_gpu(tp) == assignment);
      std::vector<float> sums = random_floats(size_t(k) * dim, 26, -100, 100), counts(k);
      for (int c = 0; c < k; ++c) counts[c] = float(1 + c % 17);
      if (k > 1) counts[k / 2] = 0.0f;  // one empty cluster keeps its centroid
      Twin<float> ts = b->twin(sums), tc = b->twin(counts), centroids = b->twin(random_floats(size_t(k) * dim, 27, -3, 3));
      b->gpu->lloyd_update(ts.gpu(), tc.gpu(), k, dim, centroids.gpu(), status.gpu());
      b->cpu.lloyd_update(ts.cpu(), tc.cpu(), k, dim, centroids.cpu(), status.cpu());
      check_exact(b->read_gpu(centroids), b->read_cpu(centroids), "centroids");
      REQUIRE(b->read_gpu(status) == b->read_cpu(status));
    }
}

TEST_CASE("CUDA k-means++ draws the CPU's points: one chunk, many chunks, K = 1 and K = 256",
          "[gpu][kmeans]") {
  auto b = backends_or_skip();
  if (!b) return;
  for (int n : {1, 300, 60000, 1000000})
    for (int k : {1, 10, 256}) {
      if (k > n || (n == 1000000 && k != 10)) continue;
      CAPTURE(n, k);
      const int dim = 20, ld = 40;
      std::vector<float> points = random_floats(size_t(n) * ld, 24, -3, 3);
      Twin<float> tp = b->twin(points);
      Twin<float> centres = b->twin(std::vector<float>(size_t(k) * dim, kNaN));
      b->gpu->kmeans_plus_plus(tp.gpu(), n, dim, ld, k, 5, centres.gpu());
      b->cpu.kmeans_plus_plus(tp.cpu(), n, dim, ld, k, 5, centres.cpu());
      // the same points, but for a near-tie of the draw (the sums of D differ in their last bits)
      check_kmeans_plus_plus(b->read_gpu(centres), b->read_cpu(centres), points, n, dim, ld, k, 5);
    }
}

namespace {

// t-SNE forces on both backends for n clustered points, compared; then `iterations` of a whole
// t-SNE of the first `layout_points` through each backend, compared.
void check_tsne_on_both(Backends* b, int n, int layout_points, int iterations) {
  const int dim = 20;
  std::vector<float> x = random_floats(size_t(n) * dim, 31, -1, 1);
  for (int i = 0; i < n; ++i) x[size_t(i) * dim + i % dim] += 6.0f;
  const double perplexity = std::min(30.0, (n - 1) / 3.0);
  SparseAffinities p = tsne_affinities(x.data(), n, dim, dim, perplexity);
  std::vector<double> y = test::random_values(size_t(2) * n, 32, -30, 30);
  auto forces = [&](Backend& backend, std::vector<double>& sum_q, std::vector<double>& rep,
                    std::vector<double>& att) {
    auto put = [&](const void* data, size_t bytes) {
      Buffer buffer = backend.allocate(std::max<size_t>(bytes, 1));
      backend.upload(buffer.as<void>(), data, bytes);
      return buffer;
    };
    Buffer ty = put(y.data(), sizeof(double) * y.size());
    Buffer rs = put(p.row_start.data(), sizeof(int64_t) * p.row_start.size());
    Buffer col = put(p.column.data(), sizeof(int32_t) * p.column.size());
    Buffer val = put(p.value.data(), sizeof(double) * p.value.size());
    std::vector<double> poison(2 * n, std::numeric_limits<double>::quiet_NaN());
    Buffer s = put(poison.data(), sizeof(double) * n), r = put(poison.data(), sizeof(double) * 2 * n),
           a = put(poison.data(), sizeof(double) * 2 * n);
    backend.tsne_forces(ty.as<double>(), n, rs.as<int64_t>(), col.as<int32_t>(), val.as<double>(),
                        s.as<double>(), r.as<double>(), a.as<double>());
    sum_q.resize(n);
    rep.resize(2 * n);
    att.resize(2 * n);
    backend.download(sum_q.data(), s.as<void>(), sizeof(double) * n);
    backend.download(rep.data(), r.as<void>(), sizeof(double) * 2 * n);
    backend.download(att.data(), a.as<void>(), sizeof(double) * 2 * n);
  };
  std::vector<double> gs, gr, ga, cs, cr, ca;
  forces(*b->gpu, gs, gr, ga);
  forces(b->cpu, cs, cr, ca);
  // both sum in double (the GPU in 8 consecutive slices of j, the CPU in index order), and fused
  // multiply-adds on the GPU change the last bits of each term: 1e-12 relative to Σ|terms|
  // (≤ n for sum_q, ≤ 85n for the forces here)
  for (int i = 0; i < n; ++i) {
    REQUIRE(std::fabs(gs[i] - cs[i]) <= 1e-12 * n);
    for (int c = 0; c < 2; ++c) {
      REQUIRE(std::fabs(gr[2 * i + c] - cr[2 * i + c]) <= 1e-12 * 85 * n);
      REQUIRE(std::fabs(ga[2 * i + c] - ca[2 * i + c]) <= 1e-12 * 85);
    }
  }
  // a few iterations through each backend: the layouts agree (chaos has not had time to grow)
  TsneOptions options;
  options.iterations = iterations;
  options.exaggeration_iterations = iterations / 2;
  options.perplexity = std::min(30.0, (layout_points - 1) / 3.0);  // n = 5: 4 neighbours
  options.backend = b->gpu.get();
  TsneResult on_gpu = tsne(x.data(), layout_points, dim, dim, options);
  options.backend = &b->cpu;
  TsneResult on_cpu = tsne(x.data(), layout_points, dim, dim, options);
  double scale = 0, error = 0;
  for (size_t c = 0; c < on_cpu.embedding.size(); ++c) {
    scale = std::max(scale, std::fabs(on_cpu.embedding[c]));
    error = std::max(error, std::fabs(on_gpu.embedding[c] - on_cpu.embedding[c]));
  }
  REQUIRE(error <= 1e-6 * scale);
}

}  // namespace

// Small enough for compute-sanitizer (racecheck tracks every shared-memory access of the tiles).
TEST_CASE("CUDA t-SNE forces match the CPU's on partial tiles, and a short t-SNE follows the CPU's",
          "[gpu][tsne]") {
  auto b = backends_or_skip();
  if (!b) return;
  for (int n : {5, 127, 300}) {
    CAPTURE(n);
    check_tsne_on_both(b.get(), n, n, 20);
  }
}

// The report's size: 10,000 points, 100 iterations of 2,000 (left out under the sanitizers).
TEST_CASE("CUDA t-SNE forces match the CPU's at 10,000 points, and 100 iterations follow the CPU's",
          "[gpu][tsne][large]") {
  auto b = backends_or_skip();
  if (!b) return;
  check_tsne_on_both(b.get(), 10000, 2000, 100);
}

namespace {

// Relative L2 distance between two slices.
double relative_l2(const std::vector<float>& got, const std::vector<float>& ref, int64_t offset, int64_t count) {
  double diff = 0, norm = 0;
  for (int64_t i = offset; i < offset + count; ++i) {
    diff += (double(got[i]) - ref[i]) * (double(got[i]) - ref[i]);
    norm += double(ref[i]) * ref[i];
  }
  return std::sqrt(diff) / std::max(std::sqrt(norm), 1e-30);
}

}  // namespace

TEST_CASE("cuDNN convolution forward, backward data and backward weights match the CPU's im2col + GEMM",
          "[gpu][conv]") {
  auto b = backends_or_skip();
  if (!b) return;
  // The model's four geometries at batch 128 and 96 (an epoch's last batch reuses the algorithms),
  // then odd ones: stride 1 and 3, no padding, several channels, a non-square image.
  std::vector<ConvGeometry> cases = {
      {128, 1, 28, 28, 32, 4, 2, 1}, {128, 32, 14, 14, 64, 4, 2, 1}, {96, 1, 28, 28, 32, 4, 2, 1},
      {96, 32, 14, 14, 64, 4, 2, 1}, {3, 5, 9, 7, 6, 3, 1, 1},        {2, 3, 11, 10, 4, 5, 3, 0},
      {1, 2, 4, 4, 1, 4, 2, 1}};
  uint64_t seed = 300;
  for (const ConvGeometry& g : cases) {
    CAPTURE(g.batch, g.in_channels, g.height, g.width, g.out_channels, g.kernel, g.stride, g.padding);
    ConvGeometry largest = g;
    if (g.batch == 96) largest.batch = 128;  // prepared at 128 above; 96 must reuse it
    size_t cpu_bytes = b->cpu.conv_prepare(g);
    size_t gpu_bytes = b->gpu->conv_prepare(largest);
    Buffer cpu_scratch = b->cpu.allocate(std::max<size_t>(cpu_bytes, 1));
    Buffer gpu_scratch = b->gpu->allocate(std::max<size_t>(gpu_bytes, 1));
    std::vector<float> x = random_floats(g.x_count(), ++seed, -1, 1);
    std::vector<float> w = random_floats(g.w_count(), ++seed, -1, 1);
    std::vector<float> dy = random_floats(g.y_count(), ++seed, -1, 1);
    auto absolute = [](std::vector<float> v) {
      for (float& e : v) e = std::fabs(e);
      return v;
    };
    Twin<float> tx = b->twin(x), tw = b->twin(w), tdy = b->twin(dy);
    Twin<float> ax = b->twin(absolute(x)), aw = b->twin(absolute(w)), ady = b->twin(absolute(dy));
    Twin<float> y = b->twin(std::vector<float>(g.y_count(), kNaN));
    Twin<float> dx = b->twin(std::vector<float>(g.x_count(), kNaN));
    Twin<float> dw = b->twin(std::vector<float>(g.w_count(), kNaN));
    Twin<float> bound = b->twin(std::vector<float>(std::max({g.x_count(), g.y_count(), g.w_count()}), 0.0f));
    // Each output is a dot product; its float error is at most (terms + 2)·ε·Σ|terms|, and Σ|terms|
    // is the same op on absolute values.
    auto tolerance_from = [&](int64_t terms, int64_t count) {
      std::vector<float> sums = Backends::read<float>(b->cpu, bound.on_cpu, count);
      return [sums, terms](size_t i) { return 1e-6 + (terms + 2) * kFloatEps * sums[i]; };
    };
    const int64_t field = int64_t(g.kernel) * g.kernel;

    b->cpu.conv_forward(g, tx.cpu(), tw.cpu(), y.cpu(), cpu_scratch.as<void>(), cpu_bytes);
    b->gpu->conv_forward(g, tx.gpu(), tw.gpu(), y.gpu(), gpu_scratch.as<void>(), gpu_bytes);
    b->cpu.conv_forward(g, ax.cpu(), aw.cpu(), bound.cpu(), cpu_scratch.as<void>(), cpu_bytes);
    check_close(b->read_gpu(y), b->read_cpu(y), tolerance_from(field * g.in_channels, g.y_count()), "conv forward");

    b->cpu.conv_backward_data(g, tdy.cpu(), tw.cpu(), dx.cpu(), cpu_scratch.as<void>(), cpu_bytes);
    b->gpu->conv_backward_data(g, tdy.gpu(), tw.gpu(), dx.gpu(), gpu_scratch.as<void>(), gpu_bytes);
    b->cpu.conv_backward_data(g, ady.cpu(), aw.cpu(), bound.cpu(), cpu_scratch.as<void>(), cpu_bytes);
    check_close(b->read_gpu(dx), b->read_cpu(dx), tolerance_from(field * g.out_channels, g.x_count()),
                "conv backward data");

    b->cpu.conv_backward_weights(g, tx.cpu(), tdy.cpu(), dw.cpu(), cpu_scratch.as<void>(), cpu_bytes);
    b->gpu->conv_backward_weights(g, tx.gpu(), tdy.gpu(), dw.gpu(), gpu_scratch.as<void>(), gpu_bytes);
    b->cpu.conv_backward_weights(g, ax.cpu(), ady.cpu(), bound.cpu(), cpu_scratch.as<void>(), cpu_bytes);
    check_close(b->read_gpu(dw), b->read_cpu(dw),
                tolerance_from(int64_t(g.batch) * g.out_height() * g.out_width(), g.w_count()),
                "conv backward weights");
  }
  // A geometry never prepared (and no larger batch of it) is an error naming the op.
  ConvGeometry unprepared{4, 2, 6, 6, 3, 3, 1, 1};
  Buffer scratch = b->gpu->allocate(1 << 20);
  Buffer x = b->gpu->allocate(sizeof(float) * unprepared.x_count());
  Buffer w = b->gpu->allocate(sizeof(float) * unprepared.w_count());
  Buffer y = b->gpu->allocate(sizeof(float) * unprepared.y_count());
  REQUIRE_THAT(test::error_of([&] {
                 b->gpu->conv_forward(unprepared, x.f32(), w.f32(), y.f32(), scratch.as<void>(), 1 << 20);
               }),
               Catch::Contains("conv_forward") && Catch::Contains("not prepared"));
}

TEST_CASE("one training step of each method gives the same losses, gradients and parameters on CUDA as on the CPU",
          "[gpu][model]") {
  auto b = backends_or_skip();
  if (!b) return;
  for (const char* arch : {"mlp", "conv"})
  for (Method method : all_methods()) {
    CAPTURE(arch, method_name(method));
    Config config;
    config.arch = arch;
    config.method = method;
    config.beta = method == Method::beta ? 5.0 : 1.0;
    const int pixels = 784, set = 300, batch = 128;
    ModelState cpu_state = make_model_state(b->cpu, config, pixels);
    ModelState gpu_state = make_model_state(*b->gpu, config, pixels);
    if (cpu_state.prior->kind() == PriorKind::nearest_centroid) {
      std::vector<float> centroids = random_floats(size_t(config.clusters) * config.latent_dim, 24, -1, 1);
      cpu_state.prior->set_means(centroids);
      gpu_state.prior->set_means(centroids);
    }
    Twin<uint8_t> images = b->twin(random_bytes(size_t(set) * pixels, 25));
    Twin<int32_t> labels = b->twin(random_ints(set, 26, config.classes));
    std::vector<int32_t> order = shuffled_order(set, config.seed, 1);
    Twin<int32_t> indices = b->twin(std::vector<int32_t>(order.begin(), order.begin() + batch));
    Workspace cpu_ws = make_workspace(b->cpu, cpu_state.shape, batch, true);
    Workspace gpu_ws = make_workspace(*b->gpu, gpu_state.shape, batch, true);
    const RngPosition noise{config.seed, RngStream::train_noise, 1};
    const float kl_weight = static_cast<float>(config.beta);
    AdamArgs adam;
    adam.lr = static_cast<float>(config.lr);
    adam.step = 1;

    auto step = [&](Backend& backend, ModelState& state, Workspace& ws, bool gpu) {
      BatchInput input{gpu ? images.gpu() : images.cpu(), gpu ? labels.gpu() : labels.cpu(),
                       gpu ? indices.gpu() : indices.cpu(), batch};
      PriorArgs prior = state.prior->args(input.labels);
      model_forward(backend, state.shape, state.layout, state.params.f32(), ws, input, prior, noise, 0, true, true);
      model_backward(backend, state.shape, state.layout, state.params.f32(), state.grads.f32(), ws, input, prior,
                     noise, 0, kl_weight);
    };
    step(b->cpu, cpu_state, cpu_ws, false);
    step(*b->gpu, gpu_state, gpu_ws, true);

    auto read = [](Backend& backend, const Buffer& buffer, size_t count) {
      return Backends::read<float>(backend, buffer, count);
    };
    std::vector<float> cpu_kl = read(b->cpu, cpu_ws.kl, batch), gpu_kl = read(*b->gpu, gpu_ws.kl, batch);
    std::vector<float> cpu_bce = read(b->cpu, cpu_ws.bce, batch), gpu_bce = read(*b->gpu, gpu_ws.bce, batch);
    check_close(gpu_kl, cpu_kl, [&](size_t i) { return 1e-4 * (1 + std::fabs(double(cpu_kl[i]))); }, "kl per sample");
    check_close(gpu_bce, cpu_bce, [&](size_t i) { return 1e-4 * (1 + std::fabs(double(cpu_bce[i]))); }, "bce per sample");
    std::vector<int32_t> cpu_chosen = Backends::read<int32_t>(b->cpu, cpu_ws.chosen, batch);
    std::vector<int32_t> gpu_chosen = Backends::read<int32_t>(*b->gpu, gpu_ws.chosen, batch);
    if (cpu_state.prior->kind() == PriorKind::nearest_centroid) {
      // μ itself differs in its last bits between the two: a near-tie of two centroids may go either way
      const int latent = cpu_state.shape.latent;
      check_chosen_means(gpu_chosen, cpu_chosen, read(b->cpu, cpu_ws.mu_logvar, size_t(batch) * 2 * latent),
                         2 * latent, latent, cpu_state.prior->means());
    } else {
      REQUIRE(gpu_chosen == cpu_chosen);
    }

    const size_t total = static_cast<size_t>(cpu_state.layout.total);
    std::vector<float> cpu_grads = read(b->cpu, cpu_state.grads, total), gpu_grads = read(*b->gpu, gpu_state.grads, total);
    for (const NamedParam& tensor : named_params(cpu_state.layout, cpu_state.shape)) {
      INFO(tensor.name);
      REQUIRE(relative_l2(gpu_grads, cpu_grads, tensor.offset, tensor.count()) <= 1e-4);
    }

    b->cpu.adam_step(cpu_state.params.f32(), cpu_state.grads.f32(), cpu_state.adam_m.f32(), cpu_state.adam_v.f32(),
                     cpu_state.layout.total, adam);
    b->gpu->adam_step(gpu_state.params.f32(), gpu_state.grads.f32(), gpu_state.adam_m.f32(), gpu_state.adam_v.f32(),
                      gpu_state.layout.total, adam);
    std::vector<float> cpu_params = download_params(b->cpu, cpu_state), gpu_params = download_params(*b->gpu, gpu_state);
    size_t beyond_1e5 = 0;
    double worst = 0;
    for (size_t i = 0; i < total; ++i) {
      double d = std::fabs(double(gpu_params[i]) - cpu_params[i]);
      worst = std::max(worst, d);
      if (d > 1e-5) ++beyond_1e5;
    }
    INFO("largest parameter difference " << worst << ", " << beyond_1e5 << " of " << total << " beyond 1e-5");
    REQUIRE(worst <= 2.0 * adam.lr * (1 + 1e-3));
    REQUIRE(beyond_1e5 <= total / 1000);
  }
}

TEST_CASE("the same step issued twice on the GPU gives the same bits (deterministic cuDNN, cuBLAS and kernels)",
          "[gpu][model][determinism]") {
  auto gpu = cuda_or_skip();
  if (!gpu) return;
  for (const char* arch : {"mlp", "conv"}) {
    CAPTURE(arch);
    Config config;
    config.arch = arch;
    config.method = Method::lambdahot;
    const int pixels = 784, set = 300, batch = 128;
    ModelState state = make_model_state(*gpu, config, pixels);
    auto put = [&](const void* data, size_t bytes) {
      Buffer buffer = gpu->allocate(bytes);
      gpu->upload(buffer.as<void>(), data, bytes);
      return buffer;
    };
    std::vector<uint8_t> images = random_bytes(size_t(set) * pixels, 25);
    std::vector<int32_t> labels = random_ints(set, 26, config.classes);
    std::vector<int32_t> order = shuffled_order(set, config.seed, 1);
    Buffer timages = put(images.data(), images.size()), tlabels = put(labels.data(), sizeof(int32_t) * set),
           tindices = put(order.data(), sizeof(int32_t) * batch);
    Workspace ws = make_workspace(*gpu, state.shape, batch, true);
    const RngPosition noise{config.seed, RngStream::train_noise, 1};
    const size_t total = static_cast<size_t>(state.layout.total);
    auto gradients = [&] {
      BatchInput input{timages.as<uint8_t>(), tlabels.as<int32_t>(), tindices.as<int32_t>(), batch};
      PriorArgs prior = state.prior->args(input.labels);
      model_forward(*gpu, state.shape, state.layout, state.params.f32(), ws, input, prior, noise, 0, true, true);
      model_backward(*gpu, state.shape, state.layout, state.params.f32(), state.grads.f32(), ws, input, prior,
                     noise, 0, 1.0f);
      return Backends::read<float>(*gpu, state.grads, total);
    };
    std::vector<float> first = gradients(), second = gradients();
    size_t differ = 0;
    for (size_t i = 0; i < total; ++i) differ += std::memcmp(&first[i], &second[i], sizeof(float)) != 0;
    INFO(differ << " of " << total << " gradient values differ between two identical steps");
    REQUIRE(differ == 0);
  }
}

TEST_CASE("a training step recorded once as a CUDA Graph and replayed gives the same bits as running its ops",
          "[gpu][graph]") {
  auto b = backends_or_skip();
  if (!b) return;
  for (const char* arch : {"mlp", "conv"})
    for (Method method : {Method::lambdahot, Method::kmeans, Method::cvae}) {
      CAPTURE(arch, method_name(method));
      auto trained = [&](bool graph) {
        Config config;
        config.arch = arch;
        config.method = method;
        config.epochs = 2;
        config.batch_size = 64;  // 300 images: 4 replayed steps and a last batch of 44 per epoch
        config.cuda_graph = graph;
        const int pixels = 784, set = 300;
        LabelledImages host;
        host.images.pixels = random_bytes(size_t(set) * pixels, 70);
        host.images.count = set;
        host.images.rows = 28;
        host.images.cols = 28;
        host.labels.labels = random_ints(set, 71, config.classes);
        host.labels.count = set;
        DeviceSplit split = upload_split(*b->gpu, host);
        ModelState state = make_model_state(*b->gpu, config, pixels);
        fit_initial_centroids(*b->gpu, config, state, split);
        // The polled progress read runs inside the epoch, and the last batch (44) runs op by op
        // after replays: a stale NotReady from the poll would make that batch's launches throw.
        const int64_t replays_before = b->gpu->counters().graph_replays;
        std::vector<EpochRecord> epochs = train(*b->gpu, config, state, split, {});
        const int64_t replays = b->gpu->counters().graph_replays - replays_before;
        // 4 full batches an epoch, 2 epochs; the first full batch runs op by op (the warm-up),
        // the second is recorded and replayed, and so is every later one.
        REQUIRE(replays == (graph ? 2 * 4 - 1 : 0));
        std::vector<float> params = download_params(*b->gpu, state);
        params.push_back(float(epochs.back().loss));
        return params;
      };
      std::vector<float> replayed = trained(true), issued = trained(false);
      REQUIRE(replayed.size() == issued.size());
      size_t differ = 0;
      for (size_t i = 0; i < replayed.size(); ++i) differ += std::memcmp(&replayed[i], &issued[i], sizeof(float)) != 0;
      INFO(differ << " of " << replayed.size() << " values differ");
      REQUIRE(differ == 0);
    }
}

// Every custom op of a Backend timed over a range of sizes, against the same device's measured
// limits: achieved GB/s against a plain device-to-device copy for the memory-bound ops (Adam, BCE,
// reparameterisation + KL, gather, bias + ReLU), GFLOP/s against the backend's own GEMM for Lloyd's
// assignment. The same code measures the CPU reference and, where a GPU is present, the CUDA
// backend: bench_backend_ops [device=cpu|cuda] [threads=N] [out=FILE.json]. Figures, no assertions.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/backend.h"
#include "engine/error.h"

using namespace cvae;

namespace {

// Median seconds of `repeats` timed calls (after two warm-up calls), synchronising around each.
double median_seconds(Backend& backend, int repeats, const std::function<void()>& op) {
  op();
  op();
  backend.synchronize();
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    op();
    backend.synchronize();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

Buffer filled(Backend& backend, int64_t count, float lo, float hi) {
  std::vector<float> host(count);
  for (int64_t i = 0; i < count; ++i) host[i] = lo + (hi - lo) * static_cast<float>((i * 2654435761u) % 1000) / 1000.0f;
  Buffer b = backend.allocate(sizeof(float) * count);
  backend.upload(b.as<void>(), host.data(), sizeof(float) * count);
  return b;
}

Buffer indices(Backend& backend, int64_t count, int64_t range) {
  std::vector<int32_t> host(count);
  for (int64_t i = 0; i < count; ++i) host[i] = static_cast<int32_t>((i * 7919) % range);
  Buffer b = backend.allocate(sizeof(int32_t) * count);
  backend.upload(b.as<void>(), host.data(), sizeof(int32_t) * count);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  std::string device = "cpu", out;
  int threads = 2;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("device=", 0) == 0) device = a.substr(7);
    else if (a.rfind("threads=", 0) == 0) threads = std::atoi(a.c_str() + 8);
    else if (a.rfind("out=", 0) == 0) out = a.substr(4);
    else { std::fprintf(stderr, "bench_backend_ops: unknown argument '%s'\n", a.c_str()); return 2; }
  }
  try {
    std::unique_ptr<Backend> owner = make_backend(device, threads);
    Backend& b = *owner;
    nlohmann::ordered_json results = nlohmann::ordered_json::array();
    auto report = [&](const std::string& op, const std::string& size, double seconds, double bytes,
                      double flops, double limit_gbs, double limit_gflops) {
      nlohmann::ordered_json r;
      r["op"] = op;
      r["size"] = size;
      r["microseconds"] = seconds * 1e6;
      if (bytes > 0) {
        r["gb_per_s"] = bytes / seconds / 1e9;
        r["fraction_of_copy_bandwidth"] = bytes / seconds / 1e9 / limit_gbs;
      }
      if (flops > 0) {
        r["gflop_per_s"] = flops / seconds / 1e9;
        r["fraction_of_gemm"] = flops / seconds / 1e9 / limit_gflops;
      }
      std::printf("%-22s %-26s %10.1f us %s\n", op.c_str(), size.c_str(), seconds * 1e6,
                  bytes > 0 ? (std::to_string(bytes / seconds / 1e9).substr(0, 6) + " GB/s").c_str()
                            : (std::to_string(flops / seconds / 1e9).substr(0, 6) + " GFLOP/s").c_str());
      results.push_back(r);
    };

    // The limits, measured on this device.
    const int64_t copy_floats = 64 << 20;  // 256 MiB
    Buffer src = filled(b, copy_floats, 0, 1), dst = b.allocate(sizeof(float) * copy_floats);
    double copy_s = median_seconds(b, 5, [&] { b.copy(dst.as<void>(), src.as<void>(), sizeof(float) * copy_floats); });
    double copy_gbs = 2.0 * sizeof(float) * copy_floats / copy_s / 1e9;  // read + write
    const int gm = 2048, gn = 2048, gk = 2048;
    Buffer ga = filled(b, int64_t(gm) * gk, -1, 1), gb = filled(b, int64_t(gk) * gn, -1, 1), gc = b.allocate(sizeof(float) * gm * gn);
    double gemm_s = median_seconds(b, 5, [&] { b.gemm(false, false, gm, gn, gk, 1, ga.f32(), gk, gb.f32(), gn, 0, gc.f32(), gn); });
    double gemm_gflops = 2.0 * gm * gn * gk / gemm_s / 1e9;
    std::printf("limits on %s: copy %.1f GB/s, sgemm 2048^3 %.1f GFLOP/s\n", b.device_description().c_str(), copy_gbs, gemm_gflops);
    src = Buffer(); dst = Buffer(); ga = Buffer(); gb = Buffer(); gc = Buffer();

    for (int64_t n : {int64_t(650000), int64_t(16) << 20}) {  // the MLP's parameters; a large model
      Buffer p = filled(b, n, -1, 1), g = filled(b, n, -1, 1), m = filled(b, n, 0, 0), v = filled(b, n, 0, 0);
      AdamArgs args;
      double s = median_seconds(b, 20, [&] { ++args.step; b.adam_step(p.f32(), g.f32(), m.f32(), v.f32(), n, args); });
      report("adam_step", std::to_string(n) + " params", s, 28.0 * n, 0, copy_gbs, gemm_gflops);
    }
    const int pixels = 784;
    for (int batch : {128, 8192}) {
      int64_t images = 60000;
      Buffer data = b.allocate(images * pixels);
      std::vector<uint8_t> host(images * pixels);
      for (size_t i = 0; i < host.size(); ++i) host[i] = static_cast<uint8_t>(i * 31);
      b.upload(data.as<void>(), host.data(), host.size());
      Buffer idx = indices(b, batch, images), logits = filled(b, int64_t(batch) * pixels, -8, 8);
      Buffer loss = b.allocate(sizeof(float) * batch), grad = b.allocate(sizeof(float) * batch * pixels);
      double s = median_seconds(b, 20, [&] {
        b.bce_with_logits(logits.f32(), data.as<uint8_t>(), idx.as<int32_t>(), batch, pixels, 1.0f / batch, loss.f32(), grad.f32());
      });
      report("bce_with_logits", std::to_string(batch) + " x 784", s, 9.0 * batch * pixels, 0, copy_gbs, gemm_gflops);
      Buffer x = b.allocate(sizeof(float) * batch * pixels);
      s = median_seconds(b, 20, [&] { b.gather_images(data.as<uint8_t>(), idx.as<int32_t>(), batch, pixels, x.f32(), pixels); });
      report("gather_images", std::to_string(batch) + " x 784", s, 5.0 * batch * pixels, 0, copy_gbs, gemm_gflops);
      Buffer bias = filled(b, pixels, -1, 1);
      s = median_seconds(b, 20, [&] { b.bias_act_forward(x.f32(), pixels, bias.f32(), batch, pixels, Activation::relu); });
      report("bias_act_forward", std::to_string(batch) + " x 784", s, 8.0 * batch * pixels, 0, copy_gbs, gemm_gflops);
    }
    const int latent = 20;
    for (int batch : {128, 262144}) {
      Buffer ml = filled(b, int64_t(batch) * 2 * latent, -2, 2), z = b.allocate(sizeof(float) * batch * latent);
      Buffer kl = b.allocate(sizeof(float) * batch), chosen = b.allocate(sizeof(int32_t) * batch);
      Buffer labels = indices(b, batch, 10), idx = indices(b, batch, batch);
      Buffer means = filled(b, 10 * latent, -5, 5);
      PriorArgs prior;
      prior.kind = PriorKind::class_mean;
      prior.means = means.f32();
      prior.num_means = 10;
      prior.labels = labels.as<int32_t>();
      prior.chosen = chosen.as<int32_t>();
      uint32_t step = 0;
      double s = median_seconds(b, 20, [&] {
        b.reparam_kl_forward(ml.f32(), idx.as<int32_t>(), batch, latent, prior, {1, RngStream::train_noise, ++step}, 0, true, z.f32(), latent, kl.f32());
      });
      report("reparam_kl_forward", std::to_string(batch) + " x 20, lambda-hot", s, 12.0 * batch * latent, 0, copy_gbs, gemm_gflops);
    }
    struct LloydCase { int64_t n; int dim, k; };
    for (LloydCase c : {LloydCase{60000, 20, 10}, LloydCase{1 << 20, 32, 256}}) {
      Buffer points = filled(b, c.n * c.dim, -3, 3), centroids = filled(b, int64_t(c.k) * c.dim, -3, 3);
      Buffer assignment = b.allocate(sizeof(int32_t) * c.n), distance = b.allocate(sizeof(float) * c.n);
      double s = median_seconds(b, 5, [&] {
        b.lloyd_assign(points.f32(), static_cast<int>(c.n), c.dim, c.dim, centroids.f32(), c.k, assignment.as<int32_t>(), distance.f32());
      });
      std::string size = std::to_string(c.n) + " x " + std::to_string(c.dim) + ", K=" + std::to_string(c.k);
      report("lloyd_assign", size, s, 0, 3.0 * c.n * c.k * c.dim, copy_gbs, gemm_gflops);
      Buffer sums = b.allocate(sizeof(float) * c.k * c.dim), counts = b.allocate(sizeof(float) * c.k);
      s = median_seconds(b, 5, [&] {
        b.lloyd_accumulate(points.f32(), static_cast<int>(c.n), c.dim, c.dim, assignment.as<int32_t>(), c.k, sums.f32(), counts.f32());
      });
      report("lloyd_accumulate", size, s, 4.0 * c.n * (c.dim + 1), 0, copy_gbs, gemm_gflops);
    }
    nlohmann::ordered_json all;
    all["device"] = b.device_description();
    all["backend"] = b.name();
    all["copy_gb_per_s"] = copy_gbs;
    all["sgemm_2048_gflop_per_s"] = gemm_gflops;
    all["results"] = results;
    if (!out.empty()) std::ofstream(out) << all.dump(2) << "\n";
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_backend_ops: %s\n", e.what());
    return 2;
  }
}

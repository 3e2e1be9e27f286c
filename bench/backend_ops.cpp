// Every custom op of a Backend timed over a range of sizes, against the same device's measured
// limits: achieved GB/s against a plain device-to-device copy for the memory-bound ops (Adam, BCE,
// reparameterisation + KL, gather, bias + ReLU), GFLOP/s against the backend's own GEMM for Lloyd's
// assignment. The same code measures the CPU reference and, where a GPU is present, the CUDA
// backend: bench_backend_ops [device=cpu|cuda] [threads=N] [out=FILE.json]. Figures, no assertions.
//
// ops=lloyd [sizes=N:D:K,...] [iterations=I] [limits=0]: only Lloyd, one iteration = lloyd_assign +
// lloyd_accumulate, timed I times (after two warm-ups) on clustered points that
// bench/lloyd_torch.py generates identically (bench/lloyd_data.h), for bench/lloyd_side_by_side.sh.
// ops=limits: only the copy bandwidth and the sgemm.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/lloyd_data.h"
#include "engine/backend/backend.h"
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

struct LloydSize { int64_t n; int dim, k; };

std::vector<LloydSize> parse_sizes(const std::string& text) {
  std::vector<LloydSize> sizes;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    long long n = 0;
    int dim = 0, k = 0, used = 0;
    if (std::sscanf(item.c_str(), "%lld:%d:%d%n", &n, &dim, &k, &used) != 3 || used != static_cast<int>(item.size()) ||
        n < 1 || n > (1ll << 31) - 1 || dim < 1 || k < 1 || k > n)
      fail("sizes: '" + item + "' is not N:D:K (1 <= K <= N < 2^31, D >= 1)");
    sizes.push_back({n, dim, k});
    start = end + 1;
  }
  return sizes;
}

// One size: `iterations` timed Lloyd iterations (assign, then accumulate, each synchronised) after
// two untimed ones. Centroids stay fixed, so every iteration does the same work (as in the peer).
nlohmann::ordered_json lloyd_case(Backend& b, const LloydSize& c, int iterations) {
  std::vector<float> host_points, host_centroids;
  bench::lloyd_data(c.n, c.dim, c.k, host_points, host_centroids);
  Buffer points = b.allocate(sizeof(float) * host_points.size());
  b.upload(points.as<void>(), host_points.data(), sizeof(float) * host_points.size());
  Buffer centroids = b.allocate(sizeof(float) * host_centroids.size());
  b.upload(centroids.as<void>(), host_centroids.data(), sizeof(float) * host_centroids.size());
  Buffer assignment = b.allocate(sizeof(int32_t) * c.n), distance = b.allocate(sizeof(float) * c.n);
  Buffer sums = b.allocate(sizeof(float) * c.k * c.dim), counts = b.allocate(sizeof(float) * c.k);
  const int n = static_cast<int>(c.n);
  std::vector<double> assign_s, accumulate_s;
  using clock = std::chrono::steady_clock;
  b.synchronize();
  for (int it = -2; it < iterations; ++it) {
    auto t0 = clock::now();
    b.lloyd_assign(points.f32(), n, c.dim, c.dim, centroids.f32(), c.k, assignment.as<int32_t>(), distance.f32());
    b.synchronize();
    auto t1 = clock::now();
    b.lloyd_accumulate(points.f32(), n, c.dim, c.dim, assignment.as<int32_t>(), c.k, sums.f32(), counts.f32());
    b.synchronize();
    auto t2 = clock::now();
    if (it < 0) continue;
    assign_s.push_back(std::chrono::duration<double>(t1 - t0).count());
    accumulate_s.push_back(std::chrono::duration<double>(t2 - t1).count());
  }
  // k-means++ seeding of the same points, once untimed and twice timed
  std::vector<double> seeding_s;
  Buffer seeds = b.allocate(sizeof(float) * c.k * c.dim);
  for (int it = -1; it < 2; ++it) {
    auto t0 = clock::now();
    b.kmeans_plus_plus(points.f32(), n, c.dim, c.dim, c.k, 1 + it, seeds.f32());
    b.synchronize();
    if (it >= 0) seeding_s.push_back(std::chrono::duration<double>(clock::now() - t0).count());
  }
  std::vector<float> host_counts(c.k), host_distance(c.n);
  b.download(host_counts.data(), counts.as<void>(), sizeof(float) * c.k);
  b.download(host_distance.data(), distance.as<void>(), sizeof(float) * c.n);
  double inertia = 0;
  for (float d : host_distance) inertia += d;
  nlohmann::ordered_json r;
  r["n"] = c.n;
  r["dim"] = c.dim;
  r["k"] = c.k;
  r["assign_seconds"] = assign_s;
  r["accumulate_seconds"] = accumulate_s;
  r["kmeans_plus_plus_seconds"] = seeding_s;
  std::vector<int64_t> count_list;
  for (float v : host_counts) count_list.push_back(static_cast<int64_t>(v));
  r["counts"] = count_list;
  r["inertia"] = inertia;
  std::vector<double> total(assign_s.size());
  for (size_t i = 0; i < total.size(); ++i) total[i] = assign_s[i] + accumulate_s[i];
  std::sort(total.begin(), total.end());
  std::printf("lloyd %lld x %d, K=%d: median %.3f ms per iteration (assign + accumulate)\n",
              static_cast<long long>(c.n), c.dim, c.k, total.empty() ? 0.0 : total[total.size() / 2] * 1e3);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::string device = "cpu", out, ops = "all", sizes_text = "60000:20:10,1048576:32:256";
  int threads = 2, iterations = 5;
  bool limits = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("device=", 0) == 0) device = a.substr(7);
    else if (a.rfind("threads=", 0) == 0) threads = std::atoi(a.c_str() + 8);
    else if (a.rfind("out=", 0) == 0) out = a.substr(4);
    else if (a.rfind("ops=", 0) == 0) ops = a.substr(4);
    else if (a.rfind("sizes=", 0) == 0) sizes_text = a.substr(6);
    else if (a.rfind("iterations=", 0) == 0) iterations = std::atoi(a.c_str() + 11);
    else if (a == "limits=0" || a == "limits=1") limits = a.back() == '1';
    else { std::fprintf(stderr, "bench_backend_ops: unknown argument '%s'\n", a.c_str()); return 2; }
  }
  if (ops != "all" && ops != "lloyd" && ops != "limits") {
    std::fprintf(stderr, "bench_backend_ops: ops must be all, lloyd or limits, not '%s'\n", ops.c_str());
    return 2;
  }
  if (iterations < 1) { std::fprintf(stderr, "bench_backend_ops: iterations must be at least 1\n"); return 2; }
  if (ops == "all") limits = true;
  try {
    std::vector<LloydSize> lloyd_sizes = parse_sizes(sizes_text);
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
    double copy_gbs = 0, gemm_gflops = 0;
    if (limits) {
      const int64_t copy_floats = 64 << 20;  // 256 MiB
      Buffer src = filled(b, copy_floats, 0, 1), dst = b.allocate(sizeof(float) * copy_floats);
      double copy_s = median_seconds(b, 5, [&] { b.copy(dst.as<void>(), src.as<void>(), sizeof(float) * copy_floats); });
      copy_gbs = 2.0 * sizeof(float) * copy_floats / copy_s / 1e9;  // read + write
      src = Buffer(); dst = Buffer();
      const int gm = 2048, gn = 2048, gk = 2048;
      Buffer ga = filled(b, int64_t(gm) * gk, -1, 1), gb = filled(b, int64_t(gk) * gn, -1, 1), gc = b.allocate(sizeof(float) * gm * gn);
      double gemm_s = median_seconds(b, 5, [&] { b.gemm(false, false, gm, gn, gk, 1, ga.f32(), gk, gb.f32(), gn, 0, gc.f32(), gn); });
      gemm_gflops = 2.0 * gm * gn * gk / gemm_s / 1e9;
      std::printf("limits on %s: copy %.1f GB/s, sgemm 2048^3 %.1f GFLOP/s\n", b.device_description().c_str(), copy_gbs, gemm_gflops);
    }
    if (ops != "all") {
      nlohmann::ordered_json all;
      all["device"] = b.device_description();
      all["backend"] = b.name();
      all["threads"] = threads;
      if (limits) {
        all["copy_gb_per_s"] = copy_gbs;
        all["sgemm_2048_gflop_per_s"] = gemm_gflops;
      }
      // the CUDA backend's switch to the GEMM route of the assignment (engine/backend/cuda/cuda_backend.cpp)
      const char* gemm_min_k = std::getenv("CLUSTERVAE_LLOYD_GEMM_MIN_K");
      all["lloyd_gemm_min_k_environment"] = gemm_min_k ? gemm_min_k : "";
      all["lloyd"] = nlohmann::ordered_json::array();
      if (ops == "lloyd")
        for (const LloydSize& c : lloyd_sizes) all["lloyd"].push_back(lloyd_case(b, c, iterations));
      if (!out.empty()) std::ofstream(out) << all.dump(2) << "\n";
      return 0;
    }

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

// GFLOP/s of the CPU backend's sgemm on the MLP VAE's GEMM shapes (batch 128), as the training step
// calls them. Prints one line per shape and a JSON line; no assertions (speed is a figure).
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/backend/cpu/gemm.h"

namespace {

struct Shape {
  const char* what;
  bool ta, tb;
  int m, n, k;
};

}  // namespace

int main(int argc, char** argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  int repeats = argc > 2 ? std::atoi(argv[2]) : 200;
  omp_set_num_threads(threads);
  const int B = 128;
  std::vector<Shape> shapes = {
      {"fc1 forward  x W1^T", false, true, B, 400, 784},
      {"fc4 forward  h W4^T", false, true, B, 784, 400},
      {"fc4 dW       dy^T h", true, false, 784, 400, B},
      {"fc4 dx       dy W4", false, false, B, 400, 784},
      {"fc1 dW       dy^T x", true, false, 400, 784, B},
  };
  std::printf("{\"threads\": %d, \"results\": [\n", threads);
  for (size_t s = 0; s < shapes.size(); ++s) {
    const Shape& sh = shapes[s];
    int lda = sh.ta ? sh.m : sh.k, ldb = sh.tb ? sh.k : sh.n;
    std::vector<float> a(static_cast<size_t>(sh.ta ? sh.k : sh.m) * lda, 0.01f);
    std::vector<float> b(static_cast<size_t>(sh.tb ? sh.n : sh.k) * ldb, 0.02f);
    std::vector<float> c(static_cast<size_t>(sh.m) * sh.n);
    for (int w = 0; w < 10; ++w)
      cvae::cpu::sgemm(sh.ta, sh.tb, sh.m, sh.n, sh.k, 1, a.data(), lda, b.data(), ldb, 0, c.data(), sh.n);
    auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < repeats; ++r)
      cvae::cpu::sgemm(sh.ta, sh.tb, sh.m, sh.n, sh.k, 1, a.data(), lda, b.data(), ldb, 0, c.data(), sh.n);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / repeats;
    double gflops = 2.0 * sh.m * sh.n * sh.k / seconds / 1e9;
    std::printf("  {\"shape\": \"%s\", \"m\": %d, \"n\": %d, \"k\": %d, \"microseconds\": %.1f, \"gflops\": %.1f}%s\n",
                sh.what, sh.m, sh.n, sh.k, seconds * 1e6, gflops, s + 1 < shapes.size() ? "," : "");
  }
  std::printf("]}\n");
}

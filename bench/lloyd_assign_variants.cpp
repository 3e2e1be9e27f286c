// Why clustervae's CPU lloyd_assign is slower than PyTorch's GEMM route, and what a direct-distance
// loop could do instead: three ways of computing argmin_k ‖p_i − c_k‖² on one thread, on the data of
// bench/backend_ops.cpp's lloyd_data, each timed 3 times (median) and checked against float64.
//   A  the engine's own loop: cvae::cpu::lloyd_assign (engine/backend/cpu/lloyd.h), called, not copied
//   B  8 partial sums per centroid in one AVX2 register, added up at the end
//   C  8 points per register (points transposed in blocks of 8), one centroid coordinate broadcast
// Built by CMake (x86-64 with AVX2 and FMA):
//   build/bench_lloyd_assign_variants [N D K]   (default 100000 32 256; D and N multiples of 8)
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bench/lloyd_data.h"
#include "engine/backend/cpu/lloyd.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void assign_b(const float* p, int n, int dim, const float* c, int k, int32_t* out) {
  for (int i = 0; i < n; ++i) {
    const float* x = p + static_cast<int64_t>(i) * dim;
    int best = 0;
    float best_d = 0;
    for (int q = 0; q < k; ++q) {
      const float* y = c + static_cast<int64_t>(q) * dim;
      __m256 acc = _mm256_setzero_ps();
      for (int j = 0; j < dim; j += 8) {
        __m256 t = _mm256_sub_ps(_mm256_loadu_ps(x + j), _mm256_loadu_ps(y + j));
        acc = _mm256_fmadd_ps(t, t, acc);
      }
      __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
      s = _mm_hadd_ps(s, s);
      s = _mm_hadd_ps(s, s);
      float d = _mm_cvtss_f32(s);
      if (q == 0 || d < best_d) { best = q; best_d = d; }
    }
    out[i] = best;
  }
}

// pt: blocks of 8 points, [block][j][lane]. Two accumulators per centroid hide the FMA latency;
// a strict < keeps the lowest k on ties.
void assign_c(const float* pt, int n, int dim, const float* c, int k, int32_t* out) {
  for (int b = 0; b < n / 8; ++b) {
    const float* x = pt + static_cast<int64_t>(b) * dim * 8;
    __m256 best_d = _mm256_set1_ps(3.0e38f);
    __m256i best = _mm256_setzero_si256();
    for (int q = 0; q < k; ++q) {
      const float* y = c + static_cast<int64_t>(q) * dim;
      __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
      for (int j = 0; j < dim; j += 2) {
        __m256 t = _mm256_sub_ps(_mm256_loadu_ps(x + j * 8), _mm256_set1_ps(y[j]));
        a0 = _mm256_fmadd_ps(t, t, a0);
        __m256 u = _mm256_sub_ps(_mm256_loadu_ps(x + (j + 1) * 8), _mm256_set1_ps(y[j + 1]));
        a1 = _mm256_fmadd_ps(u, u, a1);
      }
      __m256 d = _mm256_add_ps(a0, a1);
      __m256 less = _mm256_cmp_ps(d, best_d, _CMP_LT_OQ);
      best_d = _mm256_blendv_ps(best_d, d, less);
      best = _mm256_blendv_epi8(best, _mm256_set1_epi32(q), _mm256_castps_si256(less));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + static_cast<int64_t>(b) * 8), best);
  }
}

}  // namespace

int main(int argc, char** argv) {
  omp_set_num_threads(1);  // every variant on one thread
  const int n = argc > 3 ? std::atoi(argv[1]) : 100000;
  const int dim = argc > 3 ? std::atoi(argv[2]) : 32;
  const int k = argc > 3 ? std::atoi(argv[3]) : 256;
  if (n < 8 || n % 8 || dim < 8 || dim % 8 || k < 1) {
    std::fprintf(stderr, "lloyd_assign_variants: N and D must be multiples of 8, K >= 1\n");
    return 2;
  }
  std::vector<float> p, c;
  cvae::bench::lloyd_data(n, dim, k, p, c);
  std::vector<float> pt(p.size());

  std::vector<int32_t> exact(n), a(n), b(n), cc(n);
  for (int i = 0; i < n; ++i) {  // float64, direct differences, lowest k on ties
    int best = 0;
    double best_d = 0;
    for (int q = 0; q < k; ++q) {
      double d = 0;
      for (int j = 0; j < dim; ++j) {
        double t = static_cast<double>(p[static_cast<size_t>(i) * dim + j]) - c[static_cast<size_t>(q) * dim + j];
        d += t * t;
      }
      if (q == 0 || d < best_d) { best = q; best_d = d; }
    }
    exact[i] = best;
  }
  auto differ = [&](const std::vector<int32_t>& v) {
    int count = 0;
    for (int i = 0; i < n; ++i) count += v[i] != exact[i];
    return count;
  };
  const double gemm_flop = 2.0 * n * k * dim;
  // Each variant 3 times, interleaved (A B C A B C ...), so a busy machine hits all of them; medians.
  std::vector<double> sa, sb, sc;
  double st = 0;
  for (int r = 0; r < 3; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    cvae::cpu::lloyd_assign<float>(p.data(), n, dim, dim, c.data(), k, a.data(), nullptr);
    sa.push_back(seconds_since(t0));
    t0 = std::chrono::steady_clock::now();
    assign_b(p.data(), n, dim, c.data(), k, b.data());
    sb.push_back(seconds_since(t0));
    t0 = std::chrono::steady_clock::now();
    for (int blk = 0; blk < n / 8; ++blk)  // the transpose is part of C's time
      for (int j = 0; j < dim; ++j)
        for (int l = 0; l < 8; ++l)
          pt[(static_cast<size_t>(blk) * dim + j) * 8 + l] = p[(static_cast<size_t>(blk) * 8 + l) * dim + j];
    st = seconds_since(t0);
    assign_c(pt.data(), n, dim, c.data(), k, cc.data());
    sc.push_back(seconds_since(t0));
  }
  auto median = [](std::vector<double> v) { std::sort(v.begin(), v.end()); return v[v.size() / 2]; };
  const double ma = median(sa), mb = median(sb), mc = median(sc);
  std::printf("N=%d D=%d K=%d, one thread; GFLOP/s counts 2NKD; 'differ' = assignments unlike float64's\n", n, dim, k);
  std::printf("A the engine's loop (cpu/lloyd.h)      %8.1f ms  %5.1f GFLOP/s  differ %d\n", 1e3 * ma, gemm_flop / ma / 1e9, differ(a));
  std::printf("B 8 partial sums per centroid          %8.1f ms  %5.1f GFLOP/s  differ %d\n", 1e3 * mb, gemm_flop / mb / 1e9, differ(b));
  std::printf("C 8 points per register (+transpose)   %8.1f ms  %5.1f GFLOP/s  differ %d  (transpose %.1f ms)\n",
              1e3 * mc, gemm_flop / mc / 1e9, differ(cc), 1e3 * st);
  return 0;
}

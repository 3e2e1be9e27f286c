// CPU reference: the two halves of a Lloyd iteration (twin of kernels/lloyd.cu).
//   assign:     a_i = argmin_k ‖p_i − c_k‖²   (lowest k on ties)
//   accumulate: S_k = Σ_{a_i = k} p_i,  n_k = |{i : a_i = k}|
#pragma once
#include <cstdint>
#include <vector>

namespace cvae::cpu {

template <class T>
void lloyd_assign(const T* points, int n, int dim, int ld, const T* centroids, int k,
                  int32_t* assignment, T* distance) {
#pragma omp parallel for schedule(static) if (n > 4096)
  for (int i = 0; i < n; ++i) {
    const T* p = points + static_cast<int64_t>(i) * ld;
    int best = 0;
    T best_distance = 0;
    for (int c = 0; c < k; ++c) {
      const T* centre = centroids + static_cast<int64_t>(c) * dim;
      T d = 0;
      for (int j = 0; j < dim; ++j) d += (p[j] - centre[j]) * (p[j] - centre[j]);
      if (c == 0 || d < best_distance) { best = c; best_distance = d; }
    }
    assignment[i] = best;
    if (distance) distance[i] = best_distance;
  }
}

// Sums in double, so the reference is exact to float rounding whatever the order.
template <class T>
void lloyd_accumulate(const T* points, int n, int dim, int ld, const int32_t* assignment, int k,
                      T* sums, T* counts) {
  std::vector<double> sum(static_cast<size_t>(k) * dim, 0.0), count(k, 0.0);
  for (int i = 0; i < n; ++i) {
    const T* p = points + static_cast<int64_t>(i) * ld;
    int c = assignment[i];
    count[c] += 1;
    for (int j = 0; j < dim; ++j) sum[static_cast<size_t>(c) * dim + j] += p[j];
  }
  for (size_t idx = 0; idx < sum.size(); ++idx) sums[idx] = static_cast<T>(sum[idx]);
  for (int c = 0; c < k; ++c) counts[c] = static_cast<T>(count[c]);
}

}  // namespace cvae::cpu

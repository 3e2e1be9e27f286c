// CPU reference: the step that closes a Lloyd iteration on the backend (twin of
// kernels/lloyd_update.cu).
//   update:     c_k = S_k / n_k where n_k > 0 (else c_k is kept); status[1] = |{k : n_k = 0}|
//   changes:    status[0] = |{i : a_i ≠ previous_i}|, then previous = a
#pragma once
#include <cstdint>

namespace cvae::cpu {

// status[0] = number of points whose assignment differs from `previous`; previous ← assignment.
inline void lloyd_count_changes(const int32_t* assignment, int32_t* previous, int n, int32_t* status) {
  int32_t changed = 0;
  for (int i = 0; i < n; ++i) {
    changed += assignment[i] != previous[i];
    previous[i] = assignment[i];
  }
  status[0] = changed;
}

// centroids[c] = sums[c] / counts[c] for every non-empty cluster (an empty one keeps its centroid);
// status[1] = the number of empty clusters.
template <class T>
void lloyd_update(const T* sums, const T* counts, int k, int dim, T* centroids, int32_t* status) {
  int32_t empty = 0;
  for (int c = 0; c < k; ++c) {
    if (counts[c] > T(0)) {
      for (int j = 0; j < dim; ++j)
        centroids[static_cast<int64_t>(c) * dim + j] = sums[static_cast<int64_t>(c) * dim + j] / counts[c];
    } else {
      ++empty;
    }
  }
  status[1] = empty;
}

}  // namespace cvae::cpu

// CPU reference: the two sums of the t-SNE gradient (report/tsne.h), exact over all pairs — twin of
// kernels/tsne_forces.cu. For an embedding y [n, 2] and P in compressed rows:
//   sum_q[i]        = Σ_{j≠i} w_ij,                 w_ij = (1 + ‖y_i − y_j‖²)⁻¹   (Z = Σ_i sum_q[i])
//   repulsive[i, :] = Σ_{j≠i} w_ij² (y_i − y_j)
//   attractive[i,:] = Σ_{e in row i} p_e · w_i,col(e) · (y_i − y_col(e))
// Each point's sums run over j (and e) in index order, the order the kernel uses too.
#pragma once
#include <cstdint>

namespace cvae::cpu {

inline void tsne_forces(const double* y, int n, const int64_t* row_start, const int32_t* column,
                        const double* value, double* sum_q, double* repulsive, double* attractive) {
#pragma omp parallel for schedule(dynamic, 64)
  for (int i = 0; i < n; ++i) {
    const double xi = y[2 * i], yi = y[2 * i + 1];
    double s = 0, rx = 0, ry = 0;
    for (int j = 0; j < n; ++j) {
      if (j == i) continue;
      const double ex = xi - y[2 * j], ey = yi - y[2 * j + 1];
      const double w = 1.0 / (1.0 + ex * ex + ey * ey);
      s += w;
      rx += w * w * ex;
      ry += w * w * ey;
    }
    sum_q[i] = s;
    repulsive[2 * i] = rx;
    repulsive[2 * i + 1] = ry;
    double ax = 0, ay = 0;
    for (int64_t e = row_start[i]; e < row_start[i + 1]; ++e) {
      const int32_t j = column[e];
      const double ex = xi - y[2 * j], ey = yi - y[2 * j + 1];
      const double w = value[e] / (1.0 + ex * ex + ey * ey);
      ax += w * ex;
      ay += w * ey;
    }
    attractive[2 * i] = ax;
    attractive[2 * i + 1] = ay;
  }
}

}  // namespace cvae::cpu

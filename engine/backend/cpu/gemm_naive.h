// A naive row-major GEMM in any precision: the reference for tests and for the double-precision
// gradient checks (the float backend itself calls oneDNN, engine/backend/cpu/gemm.cpp).
#pragma once
#include <cstdint>

namespace cvae::cpu {

template <class T>
void gemm_naive(bool trans_a, bool trans_b, int m, int n, int k, T alpha, const T* a, int lda,
                const T* b, int ldb, T beta, T* c, int ldc) {
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      T sum = 0;
      for (int p = 0; p < k; ++p) {
        T av = trans_a ? a[static_cast<int64_t>(p) * lda + i] : a[static_cast<int64_t>(i) * lda + p];
        T bv = trans_b ? b[static_cast<int64_t>(j) * ldb + p] : b[static_cast<int64_t>(p) * ldb + j];
        sum += av * bv;
      }
      T& out = c[static_cast<int64_t>(i) * ldc + j];
      out = alpha * sum + (beta == T(0) ? T(0) : beta * out);
    }
}

}  // namespace cvae::cpu

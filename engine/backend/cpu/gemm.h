// The CPU backend's single-precision GEMM, behind one function so another library can be measured
// against it. oneDNN's sgemm dispatches on the CPU's features (AVX2/AVX-512) at run time; Debian's
// OpenBLAS mistakes this machine's CPU for a generic core and runs several times slower.
#pragma once

namespace cvae::cpu {

// Row-major C[m,n] = alpha · op(A) · op(B) + beta · C.
void sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
           const float* b, int ldb, float beta, float* c, int ldc);

}  // namespace cvae::cpu

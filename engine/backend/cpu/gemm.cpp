#include "engine/backend/cpu/gemm.h"

#include <oneapi/dnnl/dnnl.h>

#include <string>

#include "engine/error.h"

namespace cvae::cpu {

void sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
           const float* b, int ldb, float beta, float* c, int ldc) {
  if (m == 0 || n == 0) return;
  dnnl_status_t status = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a,
                                    lda, b, ldb, beta, c, ldc);
  if (status != dnnl_success)
    fail("dnnl_sgemm failed with status " + std::to_string(static_cast<int>(status)) + " for m=" +
         std::to_string(m) + " n=" + std::to_string(n) + " k=" + std::to_string(k));
}

}  // namespace cvae::cpu

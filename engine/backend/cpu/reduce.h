// CPU reference: acc[0] += Σ values, summed in double in index order (twin of accumulate_sum in
// kernels/reduce.cu, which sums in double too but in another order: the two agree to the rounding
// of a double sum, not bit for bit).
#pragma once
#include <cstdint>

namespace cvae::cpu {

template <class T>
void accumulate_sum(const T* values, int count, double* acc) {
  double sum = 0;
  for (int i = 0; i < count; ++i) sum += values[i];
  acc[0] += sum;
}

}  // namespace cvae::cpu

// Two small pieces the latent-space scores share: a check that labels lie in [0, classes), and
// the argmax that breaks ties toward the lowest index (as PyTorch's and NumPy's argmax do).
#pragma once
#include <cstdint>
#include <string>

#include "engine/error.h"

namespace cvae {

inline void check_labels(const char* function, const char* which, const int32_t* labels, int64_t n, int classes) {
  for (int64_t i = 0; i < n; ++i)
    if (labels[i] < 0 || labels[i] >= classes)
      fail(std::string(function) + ": " + which + " label " + std::to_string(labels[i]) + " of row " +
           std::to_string(i) + " is outside [0," + std::to_string(classes) + ")");
}

// Index of the largest of values[0..count), the lowest index on ties.
template <typename T>
inline int argmax_lowest(const T* values, int count) {
  int best = 0;
  for (int c = 1; c < count; ++c)
    if (values[c] > values[best]) best = c;
  return best;
}

}  // namespace cvae

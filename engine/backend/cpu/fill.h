// CPU reference: every element of a buffer set to one value (twin of kernels/fill.cu).
#pragma once
#include <cstdint>

namespace cvae::cpu {

template <class T>
void fill(T* data, int64_t count, T value) {
  for (int64_t i = 0; i < count; ++i) data[i] = value;
}

}  // namespace cvae::cpu

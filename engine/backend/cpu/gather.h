// CPU reference: building the input batch from the uint8 data set (twin of kernels/gather.cu).
#pragma once
#include <cstdint>

namespace cvae::cpu {

template <class T>
void gather_images(const uint8_t* images, const int32_t* indices, int batch, int pixels, T* x,
                   int ld_x) {
  const T inv255 = T(1) / T(255);
#pragma omp parallel for schedule(static) if (batch * pixels > 65536)
  for (int i = 0; i < batch; ++i) {
    const uint8_t* image = images + static_cast<int64_t>(indices[i]) * pixels;
    T* row = x + static_cast<int64_t>(i) * ld_x;
    for (int j = 0; j < pixels; ++j) row[j] = static_cast<T>(image[j]) * inv255;
  }
}

template <class T>
void write_one_hot(const int32_t* labels, const int32_t* indices, int batch, int classes, T* x,
                   int ld_x) {
  for (int i = 0; i < batch; ++i) {
    T* row = x + static_cast<int64_t>(i) * ld_x;
    int label = labels[indices[i]];
    for (int c = 0; c < classes; ++c) row[c] = c == label ? T(1) : T(0);
  }
}

}  // namespace cvae::cpu

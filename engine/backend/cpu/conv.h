// CPU reference: 2-D convolution of channels-last images (engine/backend/backend.h, ConvGeometry) as
// im2col + GEMM, and a direct loop that the tests hold both against. Templates, so the tests can
// run the same code in double for finite differences.
//
// im2col lays the receptive field of output pixel (b, oy, ox) out as one row of
//   cols[(b·OH + oy)·OW + ox, (ky·K + kx)·C + ci] = x[b, oy·s + ky − p, ox·s + kx − p, ci]  (0 outside),
// so with the filter w[co, ky, kx, ci] as a [out, K·K·C] matrix:
//   forward           y     = cols · wᵀ          [B·OH·OW, out]
//   backward (data)   dcols = dy · w, dx = col2im(dcols)   (col2im adds overlapping fields)
//   backward (weight) dw    = dyᵀ · cols
// The channel index is innermost in both x and the columns, so each (ky, kx) is one contiguous copy.
#pragma once
#include <cstdint>

#include "engine/backend/backend.h"

namespace cvae::cpu {

inline int64_t conv_rows(const ConvGeometry& g) {
  return static_cast<int64_t>(g.batch) * g.out_height() * g.out_width();
}
inline int64_t conv_cols(const ConvGeometry& g) {
  return static_cast<int64_t>(g.kernel) * g.kernel * g.in_channels;
}

template <class T>
void im2col(const ConvGeometry& g, const T* x, T* cols) {
  const int oh = g.out_height(), ow = g.out_width(), c = g.in_channels, k = g.kernel;
  const int64_t width = conv_cols(g);
#pragma omp parallel for schedule(static) if (conv_rows(g) * width > 65536)
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        T* row = cols + ((static_cast<int64_t>(b) * oh + oy) * ow + ox) * width;
        const int ix0 = ox * g.stride - g.padding;
        const bool columns_inside = ix0 >= 0 && ix0 + k <= g.width;
        for (int ky = 0; ky < k; ++ky) {
          const int iy = oy * g.stride + ky - g.padding;
          T* fields = row + static_cast<int64_t>(ky) * k * c;
          // Plain loops, not std::copy: with one channel a field is a single value, and a
          // memmove call per value cost more than the GEMM (perf, conv1 at batch 128).
          if (iy < 0 || iy >= g.height) {
            for (int i = 0; i < k * c; ++i) fields[i] = T(0);
            continue;
          }
          const T* line = x + (static_cast<int64_t>(b) * g.height + iy) * g.width * c;
          if (columns_inside) {  // the k fields of this kernel row are k·c adjacent values
            const T* from = line + static_cast<int64_t>(ix0) * c;
            for (int i = 0; i < k * c; ++i) fields[i] = from[i];
          } else {
            for (int kx = 0; kx < k; ++kx) {
              const int ix = ix0 + kx;
              T* field = fields + static_cast<int64_t>(kx) * c;
              if (ix < 0 || ix >= g.width)
                for (int ci = 0; ci < c; ++ci) field[ci] = T(0);
              else
                for (int ci = 0; ci < c; ++ci) field[ci] = line[static_cast<int64_t>(ix) * c + ci];
            }
          }
        }
      }
}

// dx = 0, then every column entry is added back to the input pixel it was copied from.
// Parallel over images: the fields of different images never overlap.
template <class T>
void col2im(const ConvGeometry& g, const T* cols, T* dx) {
  const int oh = g.out_height(), ow = g.out_width(), c = g.in_channels, k = g.kernel;
  const int64_t width = conv_cols(g);
  const int64_t image = static_cast<int64_t>(g.height) * g.width * c;
#pragma omp parallel for schedule(static) if (conv_rows(g) * width > 65536)
  for (int b = 0; b < g.batch; ++b) {
    T* out = dx + b * image;
    for (int64_t i = 0; i < image; ++i) out[i] = T(0);
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        const T* row = cols + ((static_cast<int64_t>(b) * oh + oy) * ow + ox) * width;
        const int ix0 = ox * g.stride - g.padding;
        const bool columns_inside = ix0 >= 0 && ix0 + k <= g.width;
        for (int ky = 0; ky < k; ++ky) {
          const int iy = oy * g.stride + ky - g.padding;
          if (iy < 0 || iy >= g.height) continue;
          const T* fields = row + static_cast<int64_t>(ky) * k * c;
          T* line = out + static_cast<int64_t>(iy) * g.width * c;
          if (columns_inside) {  // as in im2col: k·c adjacent values
            T* to = line + static_cast<int64_t>(ix0) * c;
            for (int i = 0; i < k * c; ++i) to[i] += fields[i];
            continue;
          }
          for (int kx = 0; kx < k; ++kx) {
            const int ix = ix0 + kx;
            if (ix < 0 || ix >= g.width) continue;
            for (int ci = 0; ci < c; ++ci)
              line[static_cast<int64_t>(ix) * c + ci] += fields[static_cast<int64_t>(kx) * c + ci];
          }
        }
      }
  }
}

// The definition itself, one output at a time: the independent check for the im2col path.
template <class T>
void conv_forward_direct(const ConvGeometry& g, const T* x, const T* w, T* y) {
  const int oh = g.out_height(), ow = g.out_width(), c = g.in_channels, k = g.kernel;
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox)
        for (int co = 0; co < g.out_channels; ++co) {
          T sum = 0;
          for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx) {
              const int iy = oy * g.stride + ky - g.padding, ix = ox * g.stride + kx - g.padding;
              if (iy < 0 || iy >= g.height || ix < 0 || ix >= g.width) continue;
              for (int ci = 0; ci < c; ++ci)
                sum += x[((static_cast<int64_t>(b) * g.height + iy) * g.width + ix) * c + ci] *
                       w[((static_cast<int64_t>(co) * k + ky) * k + kx) * c + ci];
            }
          y[((static_cast<int64_t>(b) * oh + oy) * ow + ox) * g.out_channels + co] = sum;
        }
}

}  // namespace cvae::cpu

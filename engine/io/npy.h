// NumPy .npy (format version 1.0): a magic string, a small Python-dict header with dtype, order and
// shape, padded so the data starts 64-byte aligned, then the little-endian values.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cvae {

std::string encode_npy_f32(const std::vector<float>& values, const std::vector<int64_t>& shape);
std::string encode_npy_i32(const std::vector<int32_t>& values, const std::vector<int64_t>& shape);

// A float32 array read from an .npy file (version 1.0 or 2.0, little-endian '<f4', C order):
// anything else is an Error naming the file and what is wrong.
struct NpyFloats {
  std::vector<int64_t> shape;
  std::vector<float> values;
};
NpyFloats read_npy_f32(const std::string& path);

}  // namespace cvae

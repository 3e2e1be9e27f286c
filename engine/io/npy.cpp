#include "engine/io/npy.h"

#include "engine/error.h"

namespace cvae {

namespace {

std::string encode(const char* descr, const void* data, size_t count, size_t item,
                   const std::vector<int64_t>& shape) {
  int64_t expected = 1;
  for (int64_t d : shape) expected *= d;
  if (expected != static_cast<int64_t>(count)) fail("npy: shape does not match the number of values");
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) dims += std::to_string(shape[i]) + ",";
  if (shape.size() > 1) dims.pop_back();  // (n,) for one dimension, (a,b) otherwise
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  size_t unpadded = 10 + header.size() + 1;
  header += std::string((64 - unpadded % 64) % 64, ' ') + "\n";
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>((header.size() >> 8) & 0xFF);
  out += header;
  out.append(static_cast<const char*>(data), count * item);
  return out;
}

}  // namespace

std::string encode_npy_f32(const std::vector<float>& values, const std::vector<int64_t>& shape) {
  return encode("<f4", values.data(), values.size(), sizeof(float), shape);
}

std::string encode_npy_i32(const std::vector<int32_t>& values, const std::vector<int64_t>& shape) {
  return encode("<i4", values.data(), values.size(), sizeof(int32_t), shape);
}

}  // namespace cvae

#include "engine/io/npy.h"

#include <cstring>

#include "engine/error.h"
#include "engine/io/files.h"

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

NpyFloats read_npy_f32(const std::string& path) {
  const std::string bytes = read_file(path);
  auto bad = [&](const std::string& what) { fail(path + ": " + what); };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) bad("not an .npy file");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_length = 0, start = 0;
  if (major == 1) {
    header_length = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) bad("truncated header");
    for (int i = 0; i < 4; ++i) header_length |= size_t(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    start = 12;
  } else {
    bad("npy format version " + std::to_string(major) + " is not 1, 2 or 3");
  }
  if (header_length > bytes.size() - start) bad("header longer than the file");
  const std::string header = bytes.substr(start, header_length);
  auto value_of = [&](const std::string& key) {
    size_t at = header.find("'" + key + "'");
    if (at == std::string::npos) bad("header has no '" + key + "'");
    at = header.find(':', at);
    if (at == std::string::npos) bad("header's '" + key + "' has no value");
    size_t begin = header.find_first_not_of(' ', at + 1);
    return begin == std::string::npos ? std::string() : header.substr(begin);
  };
  const std::string descr = value_of("descr");
  if (descr.compare(0, 5, "'<f4'") != 0)
    bad("dtype " + descr.substr(0, descr.find(',')) + " is not float32 ('<f4'); save with .astype('float32')");
  if (value_of("fortran_order").compare(0, 5, "False") != 0) bad("Fortran order is not supported");
  const std::string shape_text = value_of("shape");
  if (shape_text.empty() || shape_text[0] != '(') bad("shape is not a tuple");
  NpyFloats out;
  int64_t count = 1;
  size_t at = 1;
  while (at < shape_text.size() && shape_text[at] != ')') {
    if (shape_text[at] == ' ' || shape_text[at] == ',') { ++at; continue; }
    if (shape_text[at] < '0' || shape_text[at] > '9') bad("shape is not a tuple of sizes");
    int64_t dim = 0;
    while (at < shape_text.size() && shape_text[at] >= '0' && shape_text[at] <= '9') {
      dim = dim * 10 + (shape_text[at++] - '0');
      if (dim > (int64_t(1) << 40)) bad("a dimension is absurdly large");
    }
    out.shape.push_back(dim);
    count *= dim;
    if (count > (int64_t(1) << 40)) bad("the array is absurdly large");
  }
  if (at >= shape_text.size()) bad("shape tuple is not closed");
  const size_t data_start = start + header_length;
  if (static_cast<int64_t>(bytes.size() - data_start) != count * 4)
    bad(std::to_string(bytes.size() - data_start) + " data bytes, the shape needs " + std::to_string(count * 4));
  out.values.resize(static_cast<size_t>(count));
  std::memcpy(out.values.data(), bytes.data() + data_start, static_cast<size_t>(count) * 4);
  return out;
}

}  // namespace cvae

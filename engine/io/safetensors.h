// safetensors (https://github.com/huggingface/safetensors, format only): 8-byte little-endian
// header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}},
// then the raw little-endian tensor bytes. Readable by the safetensors package and PyTorch.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cvae {

struct NamedTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;  // F32
};

// Serialises tensors (in the given order) and metadata (string → string) to the file format's bytes.
std::string encode_safetensors(const std::vector<NamedTensor>& tensors,
                               const std::map<std::string, std::string>& metadata);

struct SafetensorsFile {
  std::map<std::string, NamedTensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Parses a file's bytes; `source` names it in errors. Every field is checked before use: header
// length within the file, valid JSON, F32 only, shapes whose size matches the byte range, offsets
// inside the data and not overlapping, metadata string → string.
SafetensorsFile decode_safetensors(const std::string& bytes, const std::string& source);
SafetensorsFile read_safetensors(const std::string& path);

}  // namespace cvae

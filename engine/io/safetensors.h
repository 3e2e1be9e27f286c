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

}  // namespace cvae

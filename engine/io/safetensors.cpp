#include "engine/io/safetensors.h"

#include <cstring>

#include <nlohmann/json.hpp>

#include "engine/error.h"

namespace cvae {

std::string encode_safetensors(const std::vector<NamedTensor>& tensors,
                               const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const NamedTensor& t : tensors) {
    int64_t count = 1;
    for (int64_t d : t.shape) count *= d;
    if (count != static_cast<int64_t>(t.values.size()))
      fail("safetensors: tensor " + t.name + " has " + std::to_string(t.values.size()) +
           " values for its shape");
    uint64_t bytes = sizeof(float) * t.values.size();
    header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  while (text.size() % 8 != 0) text += ' ';  // the data starts 8-byte aligned
  std::string out(8, '\0');
  uint64_t length = text.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((length >> (8 * i)) & 0xFF);
  out += text;
  for (const NamedTensor& t : tensors)
    out.append(reinterpret_cast<const char*>(t.values.data()), sizeof(float) * t.values.size());
  return out;
}

}  // namespace cvae

#include "engine/io/safetensors.h"

#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/io/files.h"

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

namespace {

// A header larger than this is not a checkpoint of ours (ours are a few KB).
constexpr uint64_t kMaxHeaderBytes = 100u << 20;

}  // namespace

SafetensorsFile decode_safetensors(const std::string& bytes, const std::string& source) {
  if (bytes.size() < 8) fail(source + ": not a safetensors file (shorter than its 8-byte header length)");
  uint64_t header_length = 0;
  for (int i = 0; i < 8; ++i)
    header_length |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  if (header_length > bytes.size() - 8 || header_length > kMaxHeaderBytes)
    fail(source + ": header length " + std::to_string(header_length) + " is beyond the file (" +
         std::to_string(bytes.size()) + " bytes)");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + header_length);
  } catch (const nlohmann::json::exception&) {
    fail(source + ": header is not valid JSON");
  }
  if (!header.is_object()) fail(source + ": header is not a JSON object");
  const uint64_t data_size = bytes.size() - 8 - header_length;
  const char* data = bytes.data() + 8 + header_length;

  SafetensorsFile file;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& entry = it.value();
    if (name == "__metadata__") {
      if (!entry.is_object()) fail(source + ": __metadata__ is not an object");
      for (auto m = entry.begin(); m != entry.end(); ++m) {
        if (!m.value().is_string()) fail(source + ": metadata '" + m.key() + "' is not a string");
        file.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string where = source + ": tensor '" + name + "'";
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets"))
      fail(where + " lacks dtype, shape or data_offsets");
    if (!entry["dtype"].is_string() || entry["dtype"].get<std::string>() != "F32")
      fail(where + " has dtype " + entry["dtype"].dump() + ", expected \"F32\"");
    const nlohmann::json& shape = entry["shape"];
    const nlohmann::json& offsets = entry["data_offsets"];
    if (!shape.is_array() || shape.size() > 8) fail(where + " has a bad shape");
    uint64_t count = 1;
    NamedTensor tensor;
    tensor.name = name;
    for (const nlohmann::json& d : shape) {
      if (!d.is_number_unsigned()) fail(where + " has a bad shape");
      uint64_t extent = d.get<uint64_t>();
      if (extent != 0 && count > (uint64_t(1) << 40) / extent) fail(where + " has a shape too large");
      count *= extent;
      tensor.shape.push_back(static_cast<int64_t>(extent));
    }
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
      fail(where + " has bad data_offsets");
    uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    if (begin > end || end > data_size)
      fail(where + " has data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
           "] outside the " + std::to_string(data_size) + " data bytes");
    if (end - begin != count * sizeof(float))
      fail(where + " has " + std::to_string(end - begin) + " bytes for " + std::to_string(count) +
           " float32 values");
    ranges.push_back({begin, end});
    tensor.values.resize(count);
    if (count > 0) std::memcpy(tensor.values.data(), data + begin, count * sizeof(float));
    file.tensors[name] = std::move(tensor);
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second) fail(source + ": tensors overlap in the data");
  return file;
}

SafetensorsFile read_safetensors(const std::string& path) {
  return decode_safetensors(read_file(path), path);
}

}  // namespace cvae

// libFuzzer target: the safetensors reader on arbitrary bytes.
#include <cstdint>
#include <string>

#include "engine/error.h"
#include "engine/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    cvae::decode_safetensors(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
  } catch (const cvae::Error&) {
  }
  return 0;
}

// libFuzzer target: config parsing. The input's first line is tried as a key=value override, the
// whole input as a JSON config object.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/config.h"
#include "engine/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  cvae::Config config;
  try {
    cvae::apply_override(config, text.substr(0, text.find('\n')));
  } catch (const cvae::Error&) {
  }
  nlohmann::json object = nlohmann::json::parse(text, nullptr, false);
  if (object.is_discarded()) return 0;
  try {
    cvae::apply_json(config, object, "fuzz.json");
    cvae::validate(config);
    cvae::to_json(config).dump();
  } catch (const cvae::Error&) {
  }
  return 0;
}

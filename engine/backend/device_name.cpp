// The device names make_backend takes, checked without making anything: the config reads them.
#include <string>

#include "engine/backend/backend.h"

namespace cvae {

int cuda_device_index(const std::string& device) {
  if (device.rfind("cuda:", 0) != 0 || device.size() == 5 || device.size() > 9) return -1;
  for (size_t i = 5; i < device.size(); ++i)
    if (device[i] < '0' || device[i] > '9') return -1;
  return std::stoi(device.substr(5));
}

bool is_device_name(const std::string& device) {
  return device == "auto" || device == "cpu" || device == "cuda" || cuda_device_index(device) >= 0;
}

}  // namespace cvae

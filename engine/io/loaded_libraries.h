// The shared libraries this process has actually mapped, read from /proc/self/maps: which
// libcublas, libcudnn or libdnnl a result came from, as opposed to the first file of that name
// in some directory (the dynamic loader's search order and a library's own dlopen decide that).
#pragma once
#include <string>
#include <vector>

namespace cvae {

// Absolute paths of the mapped files whose name starts with one of `name_prefixes` (e.g.
// "libcublas"), each once, sorted. Empty where /proc/self/maps cannot be read (not Linux).
std::vector<std::string> loaded_libraries(const std::vector<std::string>& name_prefixes);

// The libraries a training result depends on: the CUDA runtime and driver, cuBLAS(Lt), cuDNN,
// oneDNN and the OpenMP runtime.
std::vector<std::string> loaded_compute_libraries();

}  // namespace cvae

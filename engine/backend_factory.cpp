// Picks the backend from `device=`: the model code never names one.
#include <memory>
#include <string>

#include "engine/backend.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/error.h"

#ifdef CLUSTERVAE_HAVE_CUDA
#include "engine/cuda/cuda_backend.h"
#endif

namespace cvae {

bool cuda_device_available() {
#ifdef CLUSTERVAE_HAVE_CUDA
  return cuda_device_count() > 0;
#else
  return false;
#endif
}

std::unique_ptr<Backend> make_backend(const std::string& device, int threads) {
  if (device == "cpu") return std::make_unique<CpuBackend>(threads);
  if (device == "auto") {
#ifdef CLUSTERVAE_HAVE_CUDA
    if (cuda_device_available()) return make_cuda_backend(0);
#endif
    return std::make_unique<CpuBackend>(threads);
  }
  if (device == "cuda") {
#ifdef CLUSTERVAE_HAVE_CUDA
    if (!cuda_device_available()) fail("device=cuda: no CUDA device is present");
    return make_cuda_backend(0);
#else
    fail("device=cuda: this build has no CUDA backend (configure with CLUSTERVAE_CUDA=ON)");
#endif
  }
  fail("device: '" + device + "' is not one of auto, cpu, cuda");
}

}  // namespace cvae

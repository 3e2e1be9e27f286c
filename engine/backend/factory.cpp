// Picks the backend from `device=`: the model code never names one.
#include <memory>
#include <string>

#include "engine/backend/backend.h"
#include "engine/backend/cpu/cpu_backend.h"
#include "engine/error.h"

#ifdef CLUSTERVAE_HAVE_CUDA
#include "engine/backend/cuda/cuda_backend.h"
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
  if (device == "cuda" || cuda_device_index(device) >= 0) {
    const int index = device == "cuda" ? 0 : cuda_device_index(device);
#ifdef CLUSTERVAE_HAVE_CUDA
    if (!cuda_device_available()) fail("device=" + device + ": no CUDA device is present");
    const int count = cuda_device_count();
    if (index >= count)
      fail("device=" + device + ": there " + (count == 1 ? "is 1 CUDA device" : "are " + std::to_string(count) + " CUDA devices") +
           " (cuda:0" + (count > 1 ? " … cuda:" + std::to_string(count - 1) : "") + "; CUDA_VISIBLE_DEVICES chooses which)");
    return make_cuda_backend(index);
#else
    (void)index;
    fail("device=" + device + ": this build has no CUDA backend (configure with CLUSTERVAE_CUDA=ON)");
#endif
  }
  fail("device: '" + device + "' is not one of auto, cpu, cuda, cuda:N");
}

}  // namespace cvae

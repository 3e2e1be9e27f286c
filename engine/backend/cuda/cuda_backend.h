// The CUDA backend: the fast path behind the same Backend interface as the CPU reference. Custom
// kernels (kernels/*.cu) for the VAE's own ops, cuBLAS for the GEMMs, one stream, everything
// asynchronous except the copies to and from the host. Built only with CLUSTERVAE_CUDA.
#pragma once
#include <memory>

#include "engine/backend/backend.h"

namespace cvae {

// Number of CUDA devices usable here: 0 when there is no driver or no device (never throws).
int cuda_device_count();

// A backend on device `device` (throws cvae::Error when it cannot be made).
std::unique_ptr<Backend> make_cuda_backend(int device);

}  // namespace cvae

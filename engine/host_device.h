// CVAE_HD marks a function compiled for both the host and the device. Under the CUDA emulation
// (kernels/emulation/) device code is plain host code, so only nvcc needs the qualifiers.
#pragma once

#if defined(__CUDACC__)
#define CVAE_HD __host__ __device__
#else
#define CVAE_HD
#endif

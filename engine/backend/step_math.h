// Adam's bias correction for step t, PyTorch semantics, in double and then rounded to float:
//   step_size = lr / (1 − β1ᵗ),   inv_sqrt_correction2 = 1 / √(1 − β2ᵗ)
// One definition for the four places that need it — the host (step_state_at, before a step),
// the advance_step kernel (a replayed step moves them on in device memory), the adam kernel and
// its CPU twin (an eager step) — so that host and device cannot drift apart.
#pragma once
#include <cmath>
#include <cstdint>

#include "engine/host_device.h"

namespace cvae {

struct AdamCorrection {
  float step_size = 0;             // lr / (1 − β1ᵗ)
  float inv_sqrt_correction2 = 0;  // 1 / √(1 − β2ᵗ)
};

CVAE_HD inline AdamCorrection adam_correction(double step, float lr, float beta1, float beta2) {
  const double correction1 = 1.0 - pow(static_cast<double>(beta1), step);
  const double correction2 = 1.0 - pow(static_cast<double>(beta2), step);
  AdamCorrection c;
  c.step_size = static_cast<float>(static_cast<double>(lr) / correction1);
  c.inv_sqrt_correction2 = static_cast<float>(1.0 / sqrt(correction2));
  return c;
}

}  // namespace cvae

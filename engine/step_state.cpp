#include <cmath>

#include "engine/backend.h"

namespace cvae {

StepState step_state_at(uint32_t step, int32_t start, const AdamArgs& args) {
  StepState s;
  s.step = step;
  s.start = start;
  const double correction1 = 1.0 - std::pow(static_cast<double>(args.beta1), static_cast<double>(step));
  const double correction2 = 1.0 - std::pow(static_cast<double>(args.beta2), static_cast<double>(step));
  s.adam_step_size = static_cast<float>(args.lr / correction1);
  s.adam_inv_sqrt_correction2 = static_cast<float>(1.0 / std::sqrt(correction2));
  return s;
}

}  // namespace cvae

// CPU reference: the training step's varying inputs in backend memory (twin of
// kernels/step_state.cu; engine/backend/backend.h, StepState).
#pragma once
#include <cstdint>

#include "engine/backend/backend.h"

namespace cvae::cpu {

inline void select_batch(const int32_t* order, const StepState* state, int batch,
                         int32_t* batch_indices) {
  const int64_t start = state->start;
  for (int i = 0; i < batch; ++i) batch_indices[i] = order[start + i];
}

inline void advance_step(StepState* state, int batch, const AdamArgs& args) {
  *state = step_state_at(state->step + 1, state->start + batch, args);
}

}  // namespace cvae::cpu

// The linear probe: how linearly separable the classes are in a latent space, computed in double
// on the host. It checks its arguments once and throws cvae::Error naming itself and the problem.
#pragma once
#include <cstdint>

namespace cvae {

struct LinearProbeResult {
  double train_accuracy = 0, test_accuracy = 0;
};

// Linear probe: multinomial logistic (softmax) regression on standardised features. The mean and
// standard deviation are computed on the train set and applied to both sets (a constant feature
// maps to 0). Fitted on train by full-batch L-BFGS in double, deterministic, minimising
//   (1/n) Σ_i −log softmax(W x_i + b)_{y_i} + (λ/2)‖W‖²,   λ = 1e-4 (no penalty on the bias b),
// from W = 0, b = 0. Reports the train and test accuracy of the fitted classifier (argmax of the
// logits, lowest index on ties). x rows have leading dimension ld; the first `dim` columns are used.
LinearProbeResult linear_probe(const float* train_x, int64_t n_train, const int32_t* train_y,
                               const float* test_x, int64_t n_test, const int32_t* test_y,
                               int dim, int ld, int classes);

}  // namespace cvae

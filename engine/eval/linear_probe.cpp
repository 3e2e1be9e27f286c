#include "engine/eval/linear_probe.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/eval/labels.h"

namespace cvae {

namespace {

// Softmax regression on standardised features, row-major n x dim in double.
// Parameters theta = [W (classes x dim, row c = the weight vector w_c of class c), b (classes)];
// logit z_c = b_c + w_c·x. One contiguous w_c per class keeps each logit a plain dot product.
struct SoftmaxProblem {
  const std::vector<double>* x = nullptr;
  const int32_t* y = nullptr;
  int64_t n = 0;
  int dim = 0, classes = 0;
  double l2 = 1e-4;

  // Returns the objective of metrics.h at theta and writes its gradient into grad.
  double loss_and_gradient(const std::vector<double>& theta, std::vector<double>& grad) const {
    const double* w = theta.data();
    const double* b = theta.data() + static_cast<size_t>(dim) * classes;
    std::fill(grad.begin(), grad.end(), 0.0);
    double* grad_w = grad.data();
    double* grad_b = grad.data() + static_cast<size_t>(dim) * classes;
    std::vector<double> logits(classes);
    double loss = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double* row = x->data() + i * dim;
      for (int c = 0; c < classes; ++c) {
        const double* w_c = w + static_cast<size_t>(c) * dim;
        double z = b[c];
        for (int j = 0; j < dim; ++j) z += w_c[j] * row[j];
        logits[c] = z;
      }
      // Stable log-sum-exp; −log softmax_y = lse − z_y.
      const int label = y[i];
      const double label_logit = logits[label];
      const double max_logit = *std::max_element(logits.begin(), logits.end());
      double sum = 0.0;
      for (int c = 0; c < classes; ++c) {
        logits[c] = std::exp(logits[c] - max_logit);
        sum += logits[c];
      }
      loss += max_logit + std::log(sum) - label_logit;
      // d/dz of the cross-entropy: softmax − one_hot(y); logits now holds exp(z − max).
      const double inv_sum = 1.0 / sum;
      for (int c = 0; c < classes; ++c) logits[c] *= inv_sum;
      logits[label] -= 1.0;
      for (int c = 0; c < classes; ++c) {
        const double residual = logits[c];
        double* grad_w_c = grad_w + static_cast<size_t>(c) * dim;
        for (int j = 0; j < dim; ++j) grad_w_c[j] += residual * row[j];
        grad_b[c] += residual;
      }
    }
    const double inv_n = 1.0 / static_cast<double>(n);
    loss *= inv_n;
    for (double& g : grad) g *= inv_n;
    double weight_norm2 = 0.0;
    for (size_t p = 0; p < static_cast<size_t>(dim) * classes; ++p) {
      weight_norm2 += w[p] * w[p];
      grad_w[p] += l2 * w[p];
    }
    return loss + 0.5 * l2 * weight_norm2;
  }
};

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Full-batch L-BFGS (Nocedal & Wright, Algorithm 7.4/7.5: two-loop recursion, memory 10) with
// a backtracking Armijo line search. Pairs with s·y <= 0 are skipped so the implicit inverse
// Hessian stays positive definite. Deterministic: one thread, fixed summation order.
std::vector<double> fit_lbfgs(const SoftmaxProblem& problem, size_t parameter_count) {
  const int memory = 10;
  const int max_iterations = 500;
  const double gradient_tolerance = 1e-6;  // on max |∂f/∂θ| of the mean loss
  const double relative_loss_tolerance = 1e-12;

  std::vector<double> theta(parameter_count, 0.0), grad(parameter_count), direction(parameter_count);
  std::vector<double> trial(parameter_count), trial_grad(parameter_count);
  std::vector<std::vector<double>> s_history, y_history;
  std::vector<double> rho_history, alpha(memory);
  double loss = problem.loss_and_gradient(theta, grad);

  for (int iteration = 0; iteration < max_iterations; ++iteration) {
    double max_abs_grad = 0.0;
    for (double g : grad) max_abs_grad = std::max(max_abs_grad, std::fabs(g));
    if (max_abs_grad <= gradient_tolerance) break;

    // direction = −H·grad by the two-loop recursion, H_0 = (s·y / y·y) I from the newest pair.
    direction = grad;
    const int pairs = static_cast<int>(s_history.size());
    for (int m = pairs - 1; m >= 0; --m) {
      alpha[m] = rho_history[m] * dot(s_history[m], direction);
      for (size_t p = 0; p < parameter_count; ++p) direction[p] -= alpha[m] * y_history[m][p];
    }
    if (pairs > 0) {
      const double gamma = dot(s_history.back(), y_history.back()) / dot(y_history.back(), y_history.back());
      for (double& d : direction) d *= gamma;
    }
    for (int m = 0; m < pairs; ++m) {
      const double beta = rho_history[m] * dot(y_history[m], direction);
      for (size_t p = 0; p < parameter_count; ++p) direction[p] += (alpha[m] - beta) * s_history[m][p];
    }
    for (double& d : direction) d = -d;

    double slope = dot(grad, direction);
    if (!(slope < 0)) {  // not a descent direction: forget the history, take steepest descent
      s_history.clear();
      y_history.clear();
      rho_history.clear();
      for (size_t p = 0; p < parameter_count; ++p) direction[p] = -grad[p];
      slope = dot(grad, direction);
    }
    // The first step has no curvature estimate: scale it to unit length.
    double step = s_history.empty() ? 1.0 / std::sqrt(dot(grad, grad)) : 1.0;

    // Backtracking until the Armijo condition f(θ + t d) <= f(θ) + c1 t ∇f·d holds.
    const double c1 = 1e-4;
    double trial_loss = 0.0;
    bool accepted = false;
    for (int halving = 0; halving < 50; ++halving) {
      for (size_t p = 0; p < parameter_count; ++p) trial[p] = theta[p] + step * direction[p];
      trial_loss = problem.loss_and_gradient(trial, trial_grad);
      if (std::isfinite(trial_loss) && trial_loss <= loss + c1 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break;  // no decrease representable along d: as converged as double allows

    std::vector<double> s(parameter_count), y(parameter_count);
    for (size_t p = 0; p < parameter_count; ++p) {
      s[p] = trial[p] - theta[p];
      y[p] = trial_grad[p] - grad[p];
    }
    const double curvature = dot(s, y);
    if (curvature > 1e-12 * std::sqrt(dot(s, s) * dot(y, y))) {
      if (static_cast<int>(s_history.size()) == memory) {
        s_history.erase(s_history.begin());
        y_history.erase(y_history.begin());
        rho_history.erase(rho_history.begin());
      }
      s_history.push_back(std::move(s));
      y_history.push_back(std::move(y));
      rho_history.push_back(1.0 / curvature);
    }

    const double previous_loss = loss;
    theta.swap(trial);
    grad.swap(trial_grad);
    loss = trial_loss;
    if (previous_loss - loss <= relative_loss_tolerance * std::max(1.0, std::fabs(loss))) break;
  }
  return theta;
}

// Copies the first `dim` columns of x into a dense n x dim double matrix standardised with the given
// per-feature mean and scale; rejects non-finite features.
std::vector<double> standardise(const float* x, int64_t n, int dim, int ld, const std::vector<double>& mean,
                                const std::vector<double>& scale, const char* which) {
  std::vector<double> out(static_cast<size_t>(n) * dim);
  for (int64_t i = 0; i < n; ++i)
    for (int j = 0; j < dim; ++j) {
      const float value = x[i * ld + j];
      if (!std::isfinite(value))
        fail(std::string("linear_probe: ") + which + " feature " + std::to_string(j) + " of row " +
             std::to_string(i) + " is not finite");
      out[static_cast<size_t>(i) * dim + j] = (static_cast<double>(value) - mean[j]) / scale[j];
    }
  return out;
}

double probe_accuracy(const std::vector<double>& x, const int32_t* y, int64_t n, int dim, int classes,
                      const std::vector<double>& theta) {
  const double* w = theta.data();
  const double* b = theta.data() + static_cast<size_t>(dim) * classes;
  std::vector<double> logits(classes);
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double* row = x.data() + i * dim;
    for (int c = 0; c < classes; ++c) {
      const double* w_c = w + static_cast<size_t>(c) * dim;
      double z = b[c];
      for (int j = 0; j < dim; ++j) z += w_c[j] * row[j];
      logits[c] = z;
    }
    if (argmax_lowest(logits.data(), classes) == y[i]) ++correct;
  }
  return static_cast<double>(correct) / static_cast<double>(n);
}

}  // namespace

LinearProbeResult linear_probe(const float* train_x, int64_t n_train, const int32_t* train_y, const float* test_x,
                               int64_t n_test, const int32_t* test_y, int dim, int ld, int classes) {
  if (classes <= 0) fail("linear_probe: classes must be positive, got " + std::to_string(classes));
  if (dim <= 0) fail("linear_probe: dim must be positive, got " + std::to_string(dim));
  if (ld < dim)
    fail("linear_probe: leading dimension " + std::to_string(ld) + " is smaller than dim " + std::to_string(dim));
  if (n_train <= 0) fail("linear_probe: no train rows (n_train = " + std::to_string(n_train) + ")");
  if (n_test <= 0) fail("linear_probe: no test rows (n_test = " + std::to_string(n_test) + ")");
  if (train_x == nullptr || train_y == nullptr || test_x == nullptr || test_y == nullptr)
    fail("linear_probe: null features or labels");
  check_labels("linear_probe", "train", train_y, n_train, classes);
  check_labels("linear_probe", "test", test_y, n_test, classes);

  // Per-feature mean and population standard deviation of the train set (two passes, in double).
  std::vector<double> mean(dim, 0.0), scale(dim, 0.0);
  for (int64_t i = 0; i < n_train; ++i)
    for (int j = 0; j < dim; ++j) mean[j] += train_x[i * ld + j];
  for (int j = 0; j < dim; ++j) mean[j] /= static_cast<double>(n_train);
  for (int64_t i = 0; i < n_train; ++i)
    for (int j = 0; j < dim; ++j) {
      const double centred = train_x[i * ld + j] - mean[j];
      scale[j] += centred * centred;
    }
  for (int j = 0; j < dim; ++j) {
    scale[j] = std::sqrt(scale[j] / static_cast<double>(n_train));
    // A constant feature (zero spread, up to rounding of the mean) carries no information: keep it at 0.
    if (!(scale[j] > 1e-12 * std::fabs(mean[j]))) scale[j] = 1.0;
  }

  const std::vector<double> train = standardise(train_x, n_train, dim, ld, mean, scale, "train");
  const std::vector<double> test = standardise(test_x, n_test, dim, ld, mean, scale, "test");

  SoftmaxProblem problem;
  problem.x = &train;
  problem.y = train_y;
  problem.n = n_train;
  problem.dim = dim;
  problem.classes = classes;
  const std::vector<double> theta = fit_lbfgs(problem, static_cast<size_t>(dim) * classes + classes);

  LinearProbeResult result;
  result.train_accuracy = probe_accuracy(train, train_y, n_train, dim, classes, theta);
  result.test_accuracy = probe_accuracy(test, test_y, n_test, dim, classes, theta);
  return result;
}

}  // namespace cvae

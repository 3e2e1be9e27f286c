#include "report/metric_labels.h"

#include <cctype>
#include <cmath>
#include <cstdio>

namespace cvae {

namespace {

struct Entry {
  const char* key;
  const char* label;
  MetricFormat format;
  int digits;
};

// BCE, KL and loss are nats per image: two decimals separate the methods and seeds; NMI and the
// t-SNE's KL are in [0, 1]-ish ranges where a third decimal still says something.
constexpr Entry kEntries[] = {
    // metrics.json: the evaluation after training
    {"test_bce_sampled", "Test BCE (sampled z)", MetricFormat::number, 2},
    {"test_bce_mean", "Test BCE (z = μ)", MetricFormat::number, 2},
    {"test_kl", "Test KL", MetricFormat::number, 2},
    {"argmax_accuracy", "Argmax accuracy", MetricFormat::percent, 1},
    {"nearest_centre_accuracy", "Nearest-centre accuracy", MetricFormat::percent, 1},
    {"cluster_accuracy_majority", "Cluster accuracy (majority)", MetricFormat::percent, 1},
    {"cluster_accuracy_hungarian", "Cluster accuracy (Hungarian)", MetricFormat::percent, 1},
    {"nmi", "NMI", MetricFormat::number, 3},
    {"linear_probe_accuracy", "Linear-probe accuracy", MetricFormat::percent, 1},
    {"linear_probe_train_accuracy", "Linear-probe accuracy (train)", MetricFormat::percent, 1},
    {"test_images", "Test images", MetricFormat::integer, 0},
    {"evaluation_seconds", "Evaluation time", MetricFormat::seconds, 1},
    {"evaluated_after_epoch", "Evaluated after epoch", MetricFormat::integer, 0},
    // metrics.json: the training run
    {"epoch_seconds", "Epoch times", MetricFormat::seconds, 1},
    {"images_per_second", "Images per second", MetricFormat::integer, 0},
    {"final_train_loss", "Final training loss", MetricFormat::number, 2},
    {"method", "Method", MetricFormat::text, 0},
    {"dataset", "Data set", MetricFormat::text, 0},
    {"seed", "Seed", MetricFormat::integer, 0},
    {"commit", "Commit", MetricFormat::text, 0},
    {"backend", "Backend", MetricFormat::text, 0},
    {"device", "Device", MetricFormat::text, 0},
    {"cuda_graph", "CUDA Graph asked for", MetricFormat::text, 0},
    {"cuda_graph_replays", "CUDA Graph replays", MetricFormat::integer, 0},
    {"linear_fused", "Fused linear layers", MetricFormat::integer, 0},
    {"linear_unfused", "Unfused linear layers", MetricFormat::integer, 0},
    {"loaded_libraries", "Compute libraries loaded", MetricFormat::text, 0},
    // report.json
    {"epochs_done", "Epochs done", MetricFormat::integer, 0},
    {"conditional_sample_accuracy", "Conditional-sample accuracy", MetricFormat::percent, 1},
    {"conditional_sample_accuracy_per_class", "Conditional-sample accuracy per class", MetricFormat::percent, 1},
    {"conditional_samples_per_class", "Samples judged per class", MetricFormat::integer, 0},
    {"cluster_sample_purity", "Cluster-sample purity", MetricFormat::percent, 1},
    {"cluster_sample_majority_class", "Majority class per centre", MetricFormat::integer, 0},
    {"sample_classifier_test_accuracy", "Judging classifier's test accuracy", MetricFormat::percent, 1},
    {"tsne_seconds", "t-SNE time", MetricFormat::seconds, 1},
    {"tsne_kl_divergence", "t-SNE KL(P‖Q)", MetricFormat::number, 3},
    {"tsne_method", "t-SNE method", MetricFormat::text, 0},
};

// One value without a unit (a list puts the unit once, after its last element).
std::string format_scalar(const MetricLabel& m, const nlohmann::ordered_json& v) {
  if (v.is_null()) return "–";
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_string()) return v.get<std::string>();
  if (!v.is_number()) return v.dump();
  const double x = v.get<double>();
  if (!std::isfinite(x)) return fixed_text(x, 0);  // "nan", "inf": a diverged run says so
  switch (m.format) {
    case MetricFormat::percent: return percent_text(x, m.digits);
    case MetricFormat::number:
    case MetricFormat::seconds: return fixed_text(x, m.digits);
    case MetricFormat::integer: return fixed_text(std::round(x), 0);
    case MetricFormat::text: break;
  }
  // A key the table lacks: integers as they are, reals to four significant digits.
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  char text[64];
  std::snprintf(text, sizeof text, "%.4g", x);
  return text;
}

}  // namespace

MetricLabel metric_label(const std::string& key) {
  for (const Entry& e : kEntries)
    if (key == e.key) return {e.label, e.format, e.digits, true};
  // "some_new_metric" → "Some new metric", formatted by its JSON type.
  std::string label = key;
  for (char& c : label)
    if (c == '_') c = ' ';
  if (!label.empty()) label[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(label[0])));
  return {label, MetricFormat::text, 2, false};
}

std::string format_metric(const std::string& key, const nlohmann::ordered_json& value) {
  const MetricLabel m = metric_label(key);
  const std::string unit = m.format == MetricFormat::seconds ? " s" : "";
  if (!value.is_array()) return value.is_number() ? format_scalar(m, value) + unit : format_scalar(m, value);
  if (value.empty()) return "–";
  std::string out;
  size_t shown = 0;
  for (const auto& item : value) {
    if (shown == 12) break;
    out += (shown++ ? ", " : "") + format_scalar(m, item);
  }
  out += unit;
  if (shown < value.size()) out += ", … (" + std::to_string(value.size()) + " values)";
  return out;
}

std::string fixed_text(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

std::string percent_text(double fraction, int digits) { return fixed_text(100 * fraction, digits) + "%"; }

std::string percent_text(const std::optional<double>& fraction, int digits) {
  return fraction ? percent_text(*fraction, digits) : "–";
}

}  // namespace cvae

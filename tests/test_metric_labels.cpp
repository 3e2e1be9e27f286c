// The report's metrics for a reader: every key training and the report write has a readable
// name, fractions read as percentages with one decimal, the rest short.
#include <catch2/catch.hpp>

#include "engine/eval/evaluate.h"
#include "report/metric_labels.h"

using namespace cvae;

TEST_CASE("every metric the evaluation writes has a readable name", "[report]") {
  const nlohmann::ordered_json evaluated = metrics_json(Metrics{});
  REQUIRE(evaluated.size() >= 10);
  for (auto it = evaluated.begin(); it != evaluated.end(); ++it) {
    CAPTURE(it.key());
    const MetricLabel m = metric_label(it.key());
    REQUIRE(m.known);
    REQUIRE(m.label != it.key());
    REQUIRE(m.label.find('_') == std::string::npos);
  }
  REQUIRE(metric_label("test_bce_sampled").label == "Test BCE (sampled z)");
  REQUIRE(metric_label("cluster_accuracy_hungarian").label == "Cluster accuracy (Hungarian)");
  REQUIRE(metric_label("nmi").label == "NMI");
  REQUIRE(metric_label("linear_probe_accuracy").label == "Linear-probe accuracy");
  for (const char* key : {"conditional_sample_accuracy", "tsne_seconds", "epochs_done", "epoch_seconds", "commit"})
    REQUIRE(metric_label(key).known);
}

TEST_CASE("metric values are formatted short: percentages, decimals, seconds, lists", "[report]") {
  REQUIRE(format_metric("linear_probe_accuracy", 0.93456) == "93.5%");
  REQUIRE(format_metric("cluster_accuracy_hungarian", 1.0) == "100.0%");
  REQUIRE(format_metric("test_bce_sampled", 98.21349) == "98.21");
  REQUIRE(format_metric("nmi", 0.512345) == "0.512");
  REQUIRE(format_metric("tsne_seconds", 12.345) == "12.3 s");
  REQUIRE(format_metric("images_per_second", 23417.8) == "23418");
  REQUIRE(format_metric("test_images", 10000) == "10000");
  REQUIRE(format_metric("argmax_accuracy", nullptr) == "–");  // not applicable to the method
  REQUIRE(format_metric("cuda_graph", true) == "yes");
  REQUIRE(format_metric("commit", "abc1234") == "abc1234");
  REQUIRE(format_metric("epoch_seconds", nlohmann::ordered_json({2.61, 2.549})) == "2.6, 2.5 s");
  REQUIRE(format_metric("conditional_sample_accuracy_per_class", nlohmann::ordered_json({0.9, 0.875})) ==
          "90.0%, 87.5%");
  nlohmann::ordered_json many = nlohmann::ordered_json::array();
  for (int i = 0; i < 20; ++i) many.push_back(i);
  REQUIRE(format_metric("cluster_sample_majority_class", many) == "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, … (20 values)");
  REQUIRE(format_metric("loaded_libraries", nlohmann::ordered_json({"libdnnl.so.3", "libgomp.so.1"})) ==
          "libdnnl.so.3, libgomp.so.1");
  REQUIRE(format_metric("test_kl", std::nan("")) == "nan");

  // A key the table lacks still reads: a name from the key, numbers to four significant digits.
  const MetricLabel unknown = metric_label("some_new_metric");
  REQUIRE_FALSE(unknown.known);
  REQUIRE(unknown.label == "Some new metric");
  REQUIRE(format_metric("some_new_metric", 0.123456) == "0.1235");
  REQUIRE(format_metric("some_new_metric", 42) == "42");
}

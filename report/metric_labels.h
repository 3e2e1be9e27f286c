// Metrics as a reader sees them: a readable name and a short format for each key of metrics.json
// (training's evaluation and timings) and report.json (the report's own numbers), kept in one
// table that the per-run page and the comparison page both use.
#pragma once
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace cvae {

enum class MetricFormat {
  percent,  // a fraction in [0, 1], as a percentage with one decimal: "93.4%"
  number,   // a real number with `digits` decimals: "98.21"
  integer,  // a count, rounded: "10000"
  seconds,  // with `digits` decimals and the unit: "12.3 s"
  text,     // strings as they are, booleans as yes/no
};

struct MetricLabel {
  std::string label;
  MetricFormat format = MetricFormat::text;
  int digits = 2;
  bool known = false;  // false: a key the table lacks, named after the key itself
};

MetricLabel metric_label(const std::string& key);

// Numbers as every page of the report prints them: fixed-point with `digits` decimals ("98.21"),
// and a fraction as a percentage ("93.4%").
std::string fixed_text(double value, int digits);
std::string percent_text(double fraction, int digits = 1);
// A number that may not apply: "–" when it does not.
std::string percent_text(const std::optional<double>& fraction, int digits = 1);

// The value of `key` as its label says. null (a metric that does not apply to the method) is "–";
// a list is its elements so formatted, the first 12 and then how many there are.
std::string format_metric(const std::string& key, const nlohmann::ordered_json& value);

}  // namespace cvae

#include "engine/config.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>

#include "engine/backend/backend.h"
#include "engine/error.h"
#include "engine/suggest.h"

namespace cvae {

namespace {

// One entry per key: how to read it from JSON, from text, and how to write it back.
struct Field {
  const char* key;
  std::function<void(Config&, const nlohmann::json&, const std::string& where)> from_json;
  std::function<void(Config&, const std::string& text, const std::string& where)> from_text;
  std::function<nlohmann::json(const Config&)> to_json;
};

std::string describe(const nlohmann::json& value) {
  std::string text = value.dump();
  return text.size() > 40 ? text.substr(0, 40) + "..." : text;
}

template <class T>
Field integer_field(const char* key, T Config::*member, long long lo, long long hi) {
  auto check = [=](Config& c, long long v, const std::string& where) {
    if (v < lo || v > hi)
      fail(where + ": " + key + " = " + std::to_string(v) + " is out of range [" +
           std::to_string(lo) + ", " + std::to_string(hi) + "]");
    c.*member = static_cast<T>(v);
  };
  return Field{
      key,
      [=](Config& c, const nlohmann::json& j, const std::string& where) {
        if (!j.is_number_integer())
          fail(where + ": " + key + " must be an integer, got " + describe(j));
        if (j.is_number_unsigned() && j.get<unsigned long long>() > static_cast<unsigned long long>(hi))
          fail(where + ": " + key + " = " + describe(j) + " is out of range [" +
               std::to_string(lo) + ", " + std::to_string(hi) + "]");
        check(c, j.get<long long>(), where);
      },
      [=](Config& c, const std::string& text, const std::string& where) {
        errno = 0;
        char* end = nullptr;
        long long v = std::strtoll(text.c_str(), &end, 10);
        if (text.empty() || *end != '\0' || errno == ERANGE)
          fail(where + ": " + key + " must be an integer, got '" + text + "'");
        check(c, v, where);
      },
      [=](const Config& c) { return nlohmann::json(c.*member); }};
}

Field real_field(const char* key, double Config::*member, double lo, double hi) {
  auto check = [=](Config& c, double v, const std::string& where) {
    if (!(v >= lo && v <= hi))  // also rejects NaN
      fail(where + ": " + key + " = " + short_number(v) + " is out of range [" +
           short_number(lo) + ", " + short_number(hi) + "]");
    c.*member = v;
  };
  return Field{
      key,
      [=](Config& c, const nlohmann::json& j, const std::string& where) {
        if (!j.is_number()) fail(where + ": " + key + " must be a number, got " + describe(j));
        check(c, j.get<double>(), where);
      },
      [=](Config& c, const std::string& text, const std::string& where) {
        char* end = nullptr;
        double v = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0')
          fail(where + ": " + key + " must be a number, got '" + text + "'");
        check(c, v, where);
      },
      [=](const Config& c) { return nlohmann::json(c.*member); }};
}

Field text_field(const char* key, std::string Config::*member, std::vector<std::string> allowed) {
  auto check = [=](Config& c, const std::string& v, const std::string& where) {
    if (!allowed.empty()) {
      bool ok = false;
      std::string list;
      for (const auto& a : allowed) {
        ok = ok || a == v;
        list += (list.empty() ? "" : ", ") + a;
      }
      if (!ok) fail(where + ": " + key + " = '" + v + "' is not one of " + list + did_you_mean(v, allowed));
    }
    c.*member = v;
  };
  return Field{
      key,
      [=](Config& c, const nlohmann::json& j, const std::string& where) {
        if (!j.is_string()) fail(where + ": " + key + " must be a string, got " + describe(j));
        check(c, j.get<std::string>(), where);
      },
      [=](Config& c, const std::string& text, const std::string& where) { check(c, text, where); },
      [=](const Config& c) { return nlohmann::json(c.*member); }};
}

Field flag_field(const char* key, bool Config::*member) {
  return Field{
      key,
      [=](Config& c, const nlohmann::json& j, const std::string& where) {
        if (!j.is_boolean()) fail(where + ": " + key + " must be true or false, got " + describe(j));
        c.*member = j.get<bool>();
      },
      [=](Config& c, const std::string& text, const std::string& where) {
        if (text == "true" || text == "1") c.*member = true;
        else if (text == "false" || text == "0") c.*member = false;
        else fail(where + ": " + key + " must be true or false, got '" + text + "'");
      },
      [=](const Config& c) { return nlohmann::json(c.*member); }};
}

// method: one of engine/method.h's names.
Field method_field() {
  return Field{
      "method",
      [](Config& c, const nlohmann::json& j, const std::string& where) {
        if (!j.is_string()) fail(where + ": method must be a string, got " + describe(j));
        c.method = method_from_name(j.get<std::string>(), where);
      },
      [](Config& c, const std::string& text, const std::string& where) {
        c.method = method_from_name(text, where);
      },
      [](const Config& c) { return nlohmann::json(method_name(c.method)); }};
}

// device: auto, cpu, cuda or cuda:N (engine/backend/backend.h).
Field device_field() {
  auto check = [](Config& c, const std::string& v, const std::string& where) {
    if (!is_device_name(v))
      fail(where + ": device = '" + v + "' is not one of auto, cpu, cuda, cuda:N" +
           did_you_mean(v, {"auto", "cpu", "cuda"}));
    c.device = v;
  };
  return Field{
      "device",
      [=](Config& c, const nlohmann::json& j, const std::string& where) {
        if (!j.is_string()) fail(where + ": device must be a string, got " + describe(j));
        check(c, j.get<std::string>(), where);
      },
      [=](Config& c, const std::string& text, const std::string& where) { check(c, text, where); },
      [](const Config& c) { return nlohmann::json(c.device); }};
}

const std::vector<Field>& fields() {
  static const std::vector<Field> table = {
      text_field("name", &Config::name, {}),
      method_field(),
      text_field("arch", &Config::arch, {"mlp", "conv"}),
      text_field("dataset", &Config::dataset, {"mnist", "fashion", "custom"}),
      text_field("data_dir", &Config::data_dir, {}),
      text_field("train_images", &Config::train_images, {}),
      text_field("train_labels", &Config::train_labels, {}),
      text_field("test_images", &Config::test_images, {}),
      text_field("test_labels", &Config::test_labels, {}),
      integer_field("epochs", &Config::epochs, 1, 100000),
      integer_field("batch_size", &Config::batch_size, 1, 65536),
      real_field("lr", &Config::lr, 1e-12, 10.0),
      integer_field("seed", &Config::seed, 0, std::numeric_limits<long long>::max()),
      integer_field("eval_seed", &Config::eval_seed, 0, std::numeric_limits<long long>::max()),
      real_field("beta", &Config::beta, 0.0, 1000.0),
      real_field("lambda", &Config::lambda, 0.0, 1000.0),
      integer_field("clusters", &Config::clusters, 1, 4096),
      text_field("anchor", &Config::anchor, {"spread", "none"}),
      real_field("min_centre_distance", &Config::min_centre_distance, -1.0, 1000.0),
      integer_field("lloyd_iterations", &Config::lloyd_iterations, 1, 10000),
      integer_field("latent_dim", &Config::latent_dim, 1, 4096),
      integer_field("hidden", &Config::hidden, 1, 65536),
      integer_field("conv1_channels", &Config::conv1_channels, 1, 4096),
      integer_field("conv2_channels", &Config::conv2_channels, 1, 4096),
      integer_field("classes", &Config::classes, 2, 256),
      device_field(),
      flag_field("cuda_graph", &Config::cuda_graph),
      integer_field("threads", &Config::threads, 0, 1024),
      text_field("out", &Config::out, {}),
      integer_field("train_limit", &Config::train_limit, 0, 1 << 30),
      integer_field("test_limit", &Config::test_limit, 0, 1 << 30),
      integer_field("eval_batch", &Config::eval_batch, 1, 65536),
      flag_field("evaluate", &Config::evaluate),
      text_field("progress", &Config::progress, {"auto", "bar", "lines", "off"}),
  };
  return table;
}

const Field& field_for(const std::string& key, const std::string& where) {
  for (const Field& f : fields())
    if (key == f.key) return f;
  fail(where + ": unknown key '" + key + "'" + did_you_mean(key, config_keys()));
}

}  // namespace

std::vector<std::string> config_keys() {
  std::vector<std::string> keys;
  for (const Field& f : fields()) keys.push_back(f.key);
  return keys;
}

void apply_json(Config& config, const nlohmann::json& object, const std::string& source) {
  if (!object.is_object()) fail(source + ": a config must be a JSON object");
  for (auto it = object.begin(); it != object.end(); ++it)
    field_for(it.key(), source).from_json(config, it.value(), source);
}

Config load_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(path + ": cannot open config file");
  nlohmann::json object;
  try {
    object = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    fail(path + ": not valid JSON (byte " + std::to_string(e.byte) + ")");
  } catch (const nlohmann::json::exception& e) {
    fail(path + ": not valid JSON (" + std::string(e.what()) + ")");
  }
  Config config;
  apply_json(config, object, path);
  return config;
}

void apply_override(Config& config, const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    fail("argument '" + assignment + "': expected key=value");
  std::string key = assignment.substr(0, eq);
  field_for(key, "argument '" + assignment + "'")
      .from_text(config, assignment.substr(eq + 1), "argument");
}

void validate(const Config& config) {
  if (traits(config.method).prior == PriorMeans::per_class && config.latent_dim < config.classes)
    fail("config: method=" + method_name(config.method) + " needs latent_dim (" + std::to_string(config.latent_dim) +
         ") >= classes (" + std::to_string(config.classes) + ")");
  if (config.dataset == "custom" &&
      (config.train_images.empty() || config.train_labels.empty() ||
       config.test_images.empty() || config.test_labels.empty()))
    fail("config: dataset=custom needs train_images, train_labels, test_images and test_labels");
  if (config.out.empty()) fail("config: out must name a folder");
  if (traits(config.method).refit == Refit::class_centres && config.min_centre_distance > config.lambda * std::sqrt(2.0))
    fail("config: min_centre_distance (" + short_number(config.min_centre_distance) +
         ") must not exceed the initial centre distance λ√2 (" + short_number(config.lambda * std::sqrt(2.0)) + ")");
}

nlohmann::json to_json(const Config& config) {
  nlohmann::json object = nlohmann::json::object();
  for (const Field& f : fields()) object[f.key] = f.to_json(config);
  return object;
}

}  // namespace cvae

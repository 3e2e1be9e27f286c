// Checkpoints: safetensors round trip, hostile files refused with one line, and a resumed run that
// ends bit-identical to one never interrupted.
#include <catch2/catch.hpp>

#include <cstring>

#include <nlohmann/json.hpp>

#include "engine/backend/cpu/cpu_backend.h"
#include "engine/error.h"
#include "engine/io/files.h"
#include "engine/io/npy.h"
#include "engine/io/safetensors.h"
#include "engine/train/checkpoint.h"
#include "engine/train/experiment.h"
#include "tests/fixtures.h"
#include "tests/test_helpers.h"

using namespace cvae;

namespace {

using test::error_of;

// A file's bytes with its header replaced (length prefix recomputed) and `data` after it.
std::string with_header(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + header + data;
}

}  // namespace

TEST_CASE("safetensors encode and decode round-trip tensors and metadata", "[checkpoint]") {
  std::vector<NamedTensor> tensors = {{"a", {2, 3}, {1, 2, 3, 4, 5, 6}}, {"b", {1}, {-7.5f}}, {"empty", {0}, {}}};
  std::string bytes = encode_safetensors(tensors, {{"k", "v"}});
  uint64_t header = 0;
  std::memcpy(&header, bytes.data(), 8);
  REQUIRE((8 + header) % 8 == 0);  // data starts 8-byte aligned
  SafetensorsFile file = decode_safetensors(bytes, "mem");
  REQUIRE(file.metadata.at("k") == "v");
  REQUIRE(file.tensors.at("a").shape == std::vector<int64_t>{2, 3});
  REQUIRE(file.tensors.at("a").values == std::vector<float>{1, 2, 3, 4, 5, 6});
  REQUIRE(file.tensors.at("b").values == std::vector<float>{-7.5f});
  REQUIRE(file.tensors.at("empty").values.empty());
}

TEST_CASE("hostile safetensors files are refused with a one-line error naming the problem", "[checkpoint]") {
  const std::string data(16, '\0');
  struct Case { std::string bytes, phrase; };
  std::string huge(8, '\xff');
  std::vector<Case> cases = {
      {"abc", "shorter than its 8-byte header length"},
      {huge + "{}", "is beyond the file"},
      {with_header("{not json", data), "not valid JSON"},
      {with_header("[1,2]", data), "not a JSON object"},
      {with_header(R"({"t":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", data), "expected \"F32\""},
      {with_header(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,40]}})", data), "outside the 16 data bytes"},
      {with_header(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data), "8 bytes for 3 float32 values"},
      {with_header(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", data), "data_offsets [8, 0]"},
      {with_header(R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data), "bad shape"},
      {with_header(R"({"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", data), "shape too large"},
      {with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", data), "overlap"},
      {with_header(R"({"t":{"dtype":"F32","shape":[2]}})", data), "lacks dtype, shape or data_offsets"},
      {with_header(R"({"__metadata__":{"epoch":3}})", data), "is not a string"},
  };
  for (const Case& c : cases) {
    std::string message = error_of([&] { decode_safetensors(c.bytes, "ckpt.safetensors"); });
    INFO(c.phrase << " -> " << message);
    REQUIRE_THAT(message, Catch::Contains("ckpt.safetensors") && Catch::Contains(c.phrase));
    REQUIRE(message.find('\n') == std::string::npos);
  }
}

TEST_CASE("a checkpoint whose shapes do not match the config is refused", "[checkpoint]") {
  if (!test::have_mnist()) { WARN(test::kNoMnist); return; }
  test::ScratchDir dir;
  Config config;
  config.method = Method::lambdahot;
  config.data_dir = std::string(CLUSTERVAE_SOURCE_DIR) + "/data";
  config.epochs = 1;
  config.train_limit = 500;
  config.test_limit = 100;
  config.evaluate = false;
  config.out = dir.path;
  config.progress = "off";
  ExperimentResult result = run_experiment(config);
  CpuBackend backend(1);
  LoadedRun loaded = load_run(backend, result.run_dir);
  REQUIRE(loaded.epoch == 1);
  REQUIRE(loaded.state.step == 4);  // 500 images / 128 per batch
  // a config with another hidden size cannot take these weights
  std::string text = read_file(result.run_dir + "/config.json");
  text.replace(text.find("\"hidden\": 400"), 13, "\"hidden\": 300");
  write_file_atomic(result.run_dir + "/config.json", text);
  std::string message = error_of([&] { load_run(backend, result.run_dir); });
  REQUIRE_THAT(message, Catch::Contains("fc1.weight") && Catch::Contains("the config needs [300, 784]"));
}

TEST_CASE("a resumed run ends with weights bit-identical to an uninterrupted one", "[checkpoint]") {
  if (!test::have_mnist()) { WARN(test::kNoMnist); return; }
  for (Method method : {Method::lambdahot, Method::kmeans}) {
    INFO(method_name(method));
    test::ScratchDir dir;
    Config config;
    config.method = method;
    config.data_dir = std::string(CLUSTERVAE_SOURCE_DIR) + "/data";
    config.epochs = 3;
    config.train_limit = 1000;
    config.test_limit = 200;
    config.evaluate = false;
    config.out = dir.path;
    config.progress = "off";
    config.threads = 2;
    ExperimentResult whole = run_experiment(config);
    config.epochs = 1;
    config.name = "interrupted";
    ExperimentResult first = run_experiment(config);
    ExperimentResult rest = resume_experiment(first.run_dir, {"epochs=3"});
    REQUIRE(rest.run_dir == first.run_dir);
    REQUIRE(rest.epochs.size() == 2);
    SafetensorsFile a = read_safetensors(whole.run_dir + "/weights.safetensors");
    SafetensorsFile b = read_safetensors(rest.run_dir + "/weights.safetensors");
    REQUIRE(a.tensors.size() == b.tensors.size());
    for (const auto& [name, tensor] : a.tensors) {
      INFO(name);
      const NamedTensor& other = b.tensors.at(name);
      REQUIRE(tensor.shape == other.shape);
      REQUIRE(std::memcmp(tensor.values.data(), other.values.data(), tensor.values.size() * sizeof(float)) == 0);
    }
    std::string log = read_file(rest.run_dir + "/log.jsonl");
    REQUIRE(std::count(log.begin(), log.end(), '\n') == 3);
  }
}

TEST_CASE("a resumed run refuses overrides that would change the model", "[checkpoint]") {
  std::string message = error_of([] { resume_experiment("/nonexistent", {"lr=0.1"}); });
  REQUIRE_THAT(message, Catch::Contains("'lr=0.1': a resumed run can change only epochs"));
  message = error_of([] { resume_experiment("/nonexistent", {"epochs=5"}); });
  REQUIRE_THAT(message, Catch::Contains("resume=/nonexistent: no such run folder"));
  test::ScratchDir empty;
  message = error_of([&] { resume_experiment(empty.path, {}); });
  REQUIRE_THAT(message, Catch::Contains("not a run folder (no config.json)"));
}

TEST_CASE("resume refuses epochs at or below the checkpoint's and changes nothing; metrics it does not recompute stay",
          "[checkpoint]") {
  if (!test::have_mnist()) { WARN(test::kNoMnist); return; }
  test::ScratchDir dir;
  Config config;
  config.method = Method::lambdahot;
  config.data_dir = std::string(CLUSTERVAE_SOURCE_DIR) + "/data";
  config.epochs = 2;
  config.train_limit = 500;
  config.test_limit = 200;
  config.out = dir.path;
  config.progress = "off";
  config.threads = 2;
  ExperimentResult run = run_experiment(config);
  auto files = [&] {
    std::vector<std::string> bytes;
    for (const char* f : {"config.json", "metrics.json", "log.jsonl", "weights.safetensors"})
      bytes.push_back(read_file(run.run_dir + "/" + f));
    return bytes;
  };
  const std::vector<std::string> before = files();
  for (const char* epochs : {"epochs=1", "epochs=2"}) {
    INFO(epochs);
    std::string message = error_of([&] { resume_experiment(run.run_dir, {epochs}); });
    REQUIRE_THAT(message, Catch::Contains("is not more than the 2 epochs its checkpoint has"));
    REQUIRE(files() == before);
  }
  std::string message = error_of([&] { resume_experiment(run.run_dir, {}); });
  REQUIRE_THAT(message, Catch::Contains("has finished its 2 epochs") && Catch::Contains("epochs=N with N > 2"));
  REQUIRE(files() == before);

  // evaluate=false: the test metrics of epoch 2 stay, and say which epoch they are of
  nlohmann::json first = nlohmann::json::parse(before[1]);
  REQUIRE(first["evaluated_after_epoch"] == 2);
  nlohmann::json kept = nlohmann::json::parse(read_file(run.run_dir + "/metrics.json"));
  kept["added_by_someone_else"] = 7;
  write_file_atomic(run.run_dir + "/metrics.json", kept.dump(2));
  ExperimentResult more = resume_experiment(run.run_dir, {"epochs=3", "evaluate=false"});
  nlohmann::json after = nlohmann::json::parse(read_file(run.run_dir + "/metrics.json"));
  REQUIRE(after["test_bce_sampled"] == first["test_bce_sampled"]);
  REQUIRE(after["evaluated_after_epoch"] == 2);
  REQUIRE(after["added_by_someone_else"] == 7);
  REQUIRE(after["epoch_seconds"].size() == 3);
  REQUIRE(load_config_file(run.run_dir + "/config.json").epochs == 3);
  // evaluate again (config.json now says evaluate=false, as the last invocation asked): the new
  // figures, of epoch 4
  resume_experiment(run.run_dir, {"epochs=4", "evaluate=true"});
  after = nlohmann::json::parse(read_file(run.run_dir + "/metrics.json"));
  REQUIRE(after["evaluated_after_epoch"] == 4);
  REQUIRE(after["test_bce_sampled"] != first["test_bce_sampled"]);
}

TEST_CASE("npy files carry the NumPy 1.0 header, 64-byte aligned data and the values", "[checkpoint]") {
  std::vector<float> values = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, 8.0f};
  std::string bytes = encode_npy_f32(values, {2, 3});
  REQUIRE(bytes.substr(0, 6) == "\x93NUMPY");
  REQUIRE(bytes[6] == 1);
  size_t header_length = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  REQUIRE((10 + header_length) % 64 == 0);
  std::string header = bytes.substr(10, header_length);
  REQUIRE_THAT(header, Catch::Contains("'descr': '<f4'") && Catch::Contains("'shape': (2,3)") &&
                           Catch::Contains("'fortran_order': False"));
  REQUIRE(header.back() == '\n');
  REQUIRE(bytes.size() == 10 + header_length + values.size() * sizeof(float));
  REQUIRE(std::memcmp(bytes.data() + 10 + header_length, values.data(), values.size() * sizeof(float)) == 0);
  std::string labels = encode_npy_i32({3, 1, 4}, {3});
  REQUIRE_THAT(labels, Catch::Contains("'descr': '<i4'") && Catch::Contains("'shape': (3,)"));
  REQUIRE_THROWS_AS(encode_npy_f32(values, {4, 2}), Error);
}

#include "engine/train/checkpoint.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/io/files.h"
#include "engine/io/safetensors.h"

namespace cvae {

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

const NamedTensor& require_tensor(const SafetensorsFile& file, const std::string& name,
                                  const std::vector<int64_t>& shape, const std::string& path) {
  auto it = file.tensors.find(name);
  if (it == file.tensors.end()) fail(path + ": tensor '" + name + "' is missing");
  if (it->second.shape != shape)
    fail(path + ": tensor '" + name + "' has shape " + shape_text(it->second.shape) +
         ", the config needs " + shape_text(shape));
  return it->second;
}

std::vector<float> download(Backend& backend, const Buffer& buffer, int64_t count) {
  std::vector<float> host(count);
  backend.download(host.data(), buffer.as<void>(), sizeof(float) * count);
  return host;
}

}  // namespace

std::string encode_checkpoint(Backend& backend, const ModelState& state, const Config& config,
                              int epoch) {
  const int64_t total = state.layout.total;
  std::vector<float> params = download(backend, state.params, total);
  std::vector<NamedTensor> tensors;
  for (const NamedParam& p : named_params(state.layout, state.shape)) {
    NamedTensor t{p.name, p.shape, {}};
    t.values.assign(params.begin() + p.offset, params.begin() + p.offset + p.count());
    tensors.push_back(std::move(t));
  }
  if (state.prior->num_means() > 0)
    tensors.push_back({"prior.means", {state.prior->num_means(), state.shape.latent}, state.prior->means()});
  // Adam's moments over the whole flat buffer (alignment padding included, always zero).
  tensors.push_back({"optimizer.adam_m", {total}, download(backend, state.adam_m, total)});
  tensors.push_back({"optimizer.adam_v", {total}, download(backend, state.adam_v, total)});
  std::map<std::string, std::string> metadata = {
      {"format", "clustervae-checkpoint-1"},
      {"config", to_json(config).dump()},
      {"epoch", std::to_string(epoch)},
      {"step", std::to_string(state.step)},
  };
  return encode_safetensors(tensors, metadata);
}

namespace {

// The metadata's step and epoch, checked.
std::pair<int64_t, int> step_and_epoch(const SafetensorsFile& file, const std::string& path) {
  auto step_it = file.metadata.find("step");
  auto epoch_it = file.metadata.find("epoch");
  if (step_it == file.metadata.end() || epoch_it == file.metadata.end())
    fail(path + ": metadata lacks step or epoch");
  int64_t step = 0;
  int epoch = 0;
  try {
    step = std::stoll(step_it->second);
    epoch = std::stoi(epoch_it->second);
  } catch (const std::exception&) {
    fail(path + ": metadata step or epoch is not a number");
  }
  if (step < 0 || epoch < 0) fail(path + ": metadata step or epoch is negative");
  return {step, epoch};
}

}  // namespace

int checkpoint_epoch(const std::string& path) {
  return step_and_epoch(read_safetensors(path), path).second;
}

int restore_checkpoint(Backend& backend, ModelState& state, const std::string& path) {
  SafetensorsFile file = read_safetensors(path);
  std::vector<float> params(state.layout.total, 0.0f);
  for (const NamedParam& p : named_params(state.layout, state.shape)) {
    const NamedTensor& t = require_tensor(file, p.name, p.shape, path);
    std::copy(t.values.begin(), t.values.end(), params.begin() + p.offset);
  }
  for (float v : params)
    if (!std::isfinite(v)) fail(path + ": weights contain NaN or infinity");
  backend.upload(state.params.as<void>(), params.data(), sizeof(float) * params.size());
  if (state.prior->kind() != PriorKind::standard) {
    const NamedTensor& means = require_tensor(
        file, "prior.means", {state.prior->num_means(), state.shape.latent}, path);
    state.prior->set_means(means.values);
  }
  const auto [step, epoch] = step_and_epoch(file, path);
  state.step = step;
  // Adam's moments: present in training checkpoints; absent moments restart from zero.
  auto m = file.tensors.find("optimizer.adam_m");
  auto v = file.tensors.find("optimizer.adam_v");
  if (m != file.tensors.end() || v != file.tensors.end()) {
    const std::vector<int64_t> flat = {state.layout.total};
    const NamedTensor& tm = require_tensor(file, "optimizer.adam_m", flat, path);
    const NamedTensor& tv = require_tensor(file, "optimizer.adam_v", flat, path);
    backend.upload(state.adam_m.as<void>(), tm.values.data(), sizeof(float) * tm.values.size());
    backend.upload(state.adam_v.as<void>(), tv.values.data(), sizeof(float) * tv.values.size());
  }
  return epoch;
}

LoadedRun load_run(Backend& backend, const std::string& run_dir) {
  LoadedRun run;
  std::string config_path = run_dir + "/config.json";
  run.config = load_config_file(config_path);
  validate(run.config);
  std::string weights = run_dir + "/weights.safetensors";
  SafetensorsFile file = read_safetensors(weights);
  // The image size is not in the config: the decoder's last layer says it (mlp: fc4's rows;
  // conv: fc3's rows are conv2_channels · (side/4)²).
  const bool conv = run.config.arch == "conv";
  const char* layer = conv ? "fc3.weight" : "fc4.weight";
  auto last = file.tensors.find(layer);
  if (last == file.tensors.end() || last->second.shape.size() != 2 || last->second.shape[0] < 1)
    fail(weights + ": tensor '" + layer + "' is missing or not a matrix");
  int64_t rows = last->second.shape[0];
  int pixels = static_cast<int>(std::min<int64_t>(rows, 1 << 30));
  if (conv) {
    int64_t cells = rows / run.config.conv2_channels;
    int64_t quarter = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(cells))));
    if (cells * run.config.conv2_channels != rows || quarter * quarter != cells || quarter > 4096)
      fail(weights + ": tensor 'fc3.weight' has " + std::to_string(rows) +
           " rows, not conv2_channels · (side/4)² for any side");
    pixels = static_cast<int>(16 * cells);
  }
  run.state = make_model_state(backend, run.config, pixels);
  run.epoch = restore_checkpoint(backend, run.state, weights);
  return run;
}

}  // namespace cvae

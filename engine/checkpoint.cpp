#include "engine/checkpoint.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/io/files.h"
#include "engine/io/safetensors.h"

namespace cvae {

namespace {

// The named pieces of the flat parameter buffer: (name, layer, first row, rows, is bias).
struct Piece {
  std::string name;
  const Linear* layer;
  int first_row, rows;
  bool bias;
};

std::vector<Piece> pieces_of(const ModelState& state) {
  const ParamLayout& L = state.layout;
  const int latent = state.shape.latent;
  return {
      {"fc1.weight", &L.fc1, 0, L.fc1.out, false}, {"fc1.bias", &L.fc1, 0, L.fc1.out, true},
      {"fc21.weight", &L.fc2, 0, latent, false},   {"fc21.bias", &L.fc2, 0, latent, true},
      {"fc22.weight", &L.fc2, latent, latent, false}, {"fc22.bias", &L.fc2, latent, latent, true},
      {"fc3.weight", &L.fc3, 0, L.fc3.out, false}, {"fc3.bias", &L.fc3, 0, L.fc3.out, true},
      {"fc4.weight", &L.fc4, 0, L.fc4.out, false}, {"fc4.bias", &L.fc4, 0, L.fc4.out, true},
  };
}

int64_t offset_of(const Piece& p) {
  return p.bias ? p.layer->bias_offset + p.first_row
                : p.layer->weight_offset + static_cast<int64_t>(p.first_row) * p.layer->in;
}

std::vector<int64_t> shape_of(const Piece& p) {
  if (p.bias) return {p.rows};
  return {p.rows, p.layer->in};
}

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
  for (const Piece& p : pieces_of(state)) {
    NamedTensor t{p.name, shape_of(p), {}};
    int64_t count = p.bias ? p.rows : static_cast<int64_t>(p.rows) * p.layer->in;
    t.values.assign(params.begin() + offset_of(p), params.begin() + offset_of(p) + count);
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

int restore_checkpoint(Backend& backend, ModelState& state, const std::string& path) {
  SafetensorsFile file = read_safetensors(path);
  std::vector<float> params(state.layout.total, 0.0f);
  for (const Piece& p : pieces_of(state)) {
    const NamedTensor& t = require_tensor(file, p.name, shape_of(p), path);
    std::copy(t.values.begin(), t.values.end(), params.begin() + offset_of(p));
  }
  for (float v : params)
    if (!std::isfinite(v)) fail(path + ": weights contain NaN or infinity");
  backend.upload(state.params.as<void>(), params.data(), sizeof(float) * params.size());
  if (state.prior->kind() != PriorKind::standard) {
    const NamedTensor& means = require_tensor(
        file, "prior.means", {state.prior->num_means(), state.shape.latent}, path);
    state.prior->set_means(means.values);
  }
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
  auto fc4 = file.tensors.find("fc4.weight");
  if (fc4 == file.tensors.end() || fc4->second.shape.size() != 2 || fc4->second.shape[0] < 1)
    fail(weights + ": tensor 'fc4.weight' is missing or not a matrix");
  int pixels = static_cast<int>(fc4->second.shape[0]);
  run.state = make_model_state(backend, run.config, pixels);
  run.epoch = restore_checkpoint(backend, run.state, weights);
  return run;
}

}  // namespace cvae

#include "report/sampling.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "engine/nn/model.h"

namespace cvae {

namespace {

// z_i = mean_{component[i]} + ε_{noise_row[i]}, ε ~ N(0, I) from Philox (seed, sample, use).
std::vector<float> latents_around(const std::vector<float>& means, int latent,
                                  const std::vector<int32_t>& component,
                                  const std::vector<uint32_t>& noise_row, uint64_t seed,
                                  SampleUse use) {
  RngPosition at{seed, RngStream::sample, static_cast<uint32_t>(use)};
  std::vector<float> z(component.size() * latent);
  for (size_t i = 0; i < component.size(); ++i)
    for (int j = 0; j < latent; ++j) {
      float mean = means.empty() ? 0.0f : means[static_cast<size_t>(component[i]) * latent + j];
      z[i * latent + j] = mean + normal_at(at, noise_row[i], static_cast<uint32_t>(j));
    }
  return z;
}

// The (group, noise row) of each of groups·per_group images.
void grouped(int groups, int per_group, bool shared_noise, std::vector<int32_t>& group,
             std::vector<uint32_t>& noise_row) {
  group.resize(static_cast<size_t>(groups) * per_group);
  noise_row.resize(group.size());
  for (int g = 0; g < groups; ++g)
    for (int s = 0; s < per_group; ++s) {
      size_t i = static_cast<size_t>(g) * per_group + s;
      group[i] = g;
      noise_row[i] = static_cast<uint32_t>(shared_noise ? s : i);
    }
}

}  // namespace

GeneratedImages decode_latents(Backend& backend, const ModelState& state, const std::vector<float>& z,
                               const std::vector<int32_t>& labels, int eval_batch) {
  const ModelShape& shape = state.shape;
  if (z.size() % shape.latent != 0) fail("sampling: latent array is not a whole number of rows");
  const int64_t n = static_cast<int64_t>(z.size() / shape.latent);
  if (shape.conditional && static_cast<int64_t>(labels.size()) != n)
    fail("sampling: the conditional decoder needs one label per latent vector");
  GeneratedImages out;
  out.count = n;
  out.pixels = shape.pixels;
  out.pixels_data.resize(static_cast<size_t>(n) * shape.pixels);
  out.group = labels;
  if (n == 0) return out;
  const int capacity = static_cast<int>(std::min<int64_t>(std::max(eval_batch, 1), n));
  Workspace ws = make_workspace(backend, shape, capacity, false);
  const int width = shape.decoder_in();
  std::vector<float> input(static_cast<size_t>(capacity) * width);
  std::vector<float> logits(static_cast<size_t>(capacity) * shape.pixels);
  for (int64_t start = 0; start < n; start += capacity) {
    const int rows = static_cast<int>(std::min<int64_t>(capacity, n - start));
    std::fill(input.begin(), input.end(), 0.0f);
    for (int r = 0; r < rows; ++r) {
      std::copy_n(&z[(start + r) * shape.latent], shape.latent, &input[static_cast<size_t>(r) * width]);
      if (shape.conditional) {
        int32_t y = labels[start + r];
        if (y < 0 || y >= shape.classes) fail("sampling: label " + std::to_string(y) + " out of range");
        input[static_cast<size_t>(r) * width + shape.latent + y] = 1.0f;
      }
    }
    backend.upload(ws.decoder_in.as<void>(), input.data(), sizeof(float) * rows * width);
    model_decode(backend, shape, state.layout, state.params.f32(), ws, rows);
    backend.download(logits.data(), ws.logits.as<void>(), sizeof(float) * rows * shape.pixels);
    float* dst = &out.pixels_data[static_cast<size_t>(start) * shape.pixels];
    for (int64_t i = 0; i < static_cast<int64_t>(rows) * shape.pixels; ++i)
      dst[i] = 1.0f / (1.0f + std::exp(-logits[i]));
  }
  return out;
}

GeneratedImages reconstruct_images(Backend& backend, const ModelState& state,
                                   const LabelledImages& split, const std::vector<int64_t>& rows) {
  const ModelShape& shape = state.shape;
  const int m = static_cast<int>(rows.size());
  if (m == 0) return decode_latents(backend, state, {}, {});
  std::vector<uint8_t> images(static_cast<size_t>(m) * shape.pixels);
  std::vector<int32_t> labels(m), identity(m);
  for (int i = 0; i < m; ++i) {
    if (rows[i] < 0 || rows[i] >= split.images.count) fail("sampling: image row out of range");
    std::copy_n(&split.images.pixels[static_cast<size_t>(rows[i]) * shape.pixels], shape.pixels,
                &images[static_cast<size_t>(i) * shape.pixels]);
    labels[i] = split.labels.labels[rows[i]];
    identity[i] = i;
  }
  Buffer d_images = backend.allocate(images.size());
  Buffer d_labels = backend.allocate(sizeof(int32_t) * m);
  Buffer d_indices = backend.allocate(sizeof(int32_t) * m);
  backend.upload(d_images.as<void>(), images.data(), images.size());
  backend.upload(d_labels.as<void>(), labels.data(), sizeof(int32_t) * m);
  backend.upload(d_indices.as<void>(), identity.data(), sizeof(int32_t) * m);
  Workspace ws = make_workspace(backend, shape, m, false);
  BatchInput input{d_images.as<uint8_t>(), d_labels.as<int32_t>(), d_indices.as<int32_t>(), m};
  model_encode(backend, shape, state.layout, state.params.f32(), ws, input);
  std::vector<float> mu_logvar(static_cast<size_t>(m) * 2 * shape.latent);
  backend.download(mu_logvar.data(), ws.mu_logvar.as<void>(), sizeof(float) * mu_logvar.size());
  std::vector<float> z(static_cast<size_t>(m) * shape.latent);
  for (int i = 0; i < m; ++i)
    std::copy_n(&mu_logvar[static_cast<size_t>(i) * 2 * shape.latent], shape.latent, &z[static_cast<size_t>(i) * shape.latent]);
  return decode_latents(backend, state, z, labels);
}

GeneratedImages conditional_samples(Backend& backend, const Config& config, const ModelState& state,
                                    int per_group, uint64_t seed, SampleUse use, bool shared_noise) {
  if (!traits(config.method).class_sampler)
    fail("sampling: method '" + method_name(config.method) + "' has no class-conditional sampler");
  std::vector<int32_t> group;
  std::vector<uint32_t> noise_row;
  grouped(config.classes, per_group, shared_noise, group, noise_row);
  // cvae: the label goes to the decoder and z ~ N(0, I); lambdahot: z ~ N(λ·e_y, I); movable:
  // z ~ N(c_y, I) around its moved class centres.
  const std::vector<float> means =
      state.prior->kind() == PriorKind::class_mean ? state.prior->means() : std::vector<float>();
  std::vector<float> z = latents_around(means, state.shape.latent, group, noise_row, seed, use);
  return decode_latents(backend, state, z, group, config.eval_batch);
}

GeneratedImages cluster_samples(Backend& backend, const Config& config, const ModelState& state,
                                int per_group, uint64_t seed, SampleUse use, bool shared_noise) {
  if (state.prior->kind() != PriorKind::nearest_centroid)
    fail("sampling: method '" + method_name(config.method) + "' has no k-means centres");
  std::vector<int32_t> group;
  std::vector<uint32_t> noise_row;
  grouped(state.prior->num_means(), per_group, shared_noise, group, noise_row);
  std::vector<float> z = latents_around(state.prior->means(), state.shape.latent, group, noise_row,
                                        seed, use);
  GeneratedImages out = decode_latents(backend, state, z, {}, config.eval_batch);
  out.group = group;
  return out;
}

GeneratedImages prior_samples(Backend& backend, const Config& config, const ModelState& state,
                              int n, uint64_t seed) {
  // The mixture component (or the CVAE's label) of each sample: uniform, from column `latent` of
  // the sample's Philox row (the columns before it are its ε).
  RngPosition at{seed, RngStream::sample, kSamplePriorGrid};
  const int components = state.prior->kind() == PriorKind::standard
                             ? (state.shape.conditional ? config.classes : 1)
                             : state.prior->num_means();
  std::vector<int32_t> component(n);
  std::vector<uint32_t> noise_row(n);
  for (int i = 0; i < n; ++i) {
    double u = uniform_at(at, static_cast<uint32_t>(i), 2 * static_cast<uint32_t>(state.shape.latent));
    component[i] = std::min(components - 1, static_cast<int32_t>(u * components));
    noise_row[i] = static_cast<uint32_t>(i);
  }
  const std::vector<float> means =
      state.prior->kind() == PriorKind::standard ? std::vector<float>() : state.prior->means();
  std::vector<float> z = latents_around(means, state.shape.latent, component, noise_row, seed,
                                        kSamplePriorGrid);
  GeneratedImages out = decode_latents(backend, state, z, component, config.eval_batch);
  out.group = component;
  return out;
}

}  // namespace cvae

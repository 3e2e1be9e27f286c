#include "engine/eval/evaluate.h"

#include <numeric>

#include "engine/eval/cluster_scores.h"
#include "engine/eval/linear_probe.h"
#include "engine/prior/kmeans.h"

namespace cvae {

namespace {

struct LossSums {
  double bce_sampled = 0, bce_mean = 0, kl = 0;
};

// Σ over the split of per-image BCE with z sampled (fixed eval seed) and with z = μ, and of KL:
// one workspace and one index buffer for both passes.
LossSums test_losses(Backend& backend, const Config& config, const ModelState& state,
                     const DeviceSplit& split) {
  Workspace ws = make_workspace(backend, state.shape, config.eval_batch, false);
  Buffer indices = identity_indices(backend, split.count);
  Buffer sums = backend.allocate(3 * sizeof(double));  // bce sampled, bce at μ, kl
  PriorArgs prior = state.prior->args(split.labels.as<int32_t>());
  RngPosition noise{config.eval_seed, RngStream::eval_noise, 0};
  for (int64_t start = 0; start < split.count; start += config.eval_batch) {
    int batch = static_cast<int>(std::min<int64_t>(config.eval_batch, split.count - start));
    BatchInput input{split.images.as<uint8_t>(), split.labels.as<int32_t>(),
                     indices.as<int32_t>() + start, batch};
    // batch_offset = the image's index: its ε does not depend on the evaluation batch size.
    for (bool sample : {true, false}) {
      model_forward(backend, state.shape, state.layout, state.params.f32(), ws, input, prior,
                    noise, static_cast<uint32_t>(start), sample, false);
      backend.accumulate_sum(ws.bce.f32(), batch, sums.as<double>() + (sample ? 0 : 1));
    }
    backend.accumulate_sum(ws.kl.f32(), batch, sums.as<double>() + 2);  // KL does not depend on z
  }
  double host[3];
  backend.download(host, sums.as<void>(), sizeof host);
  return {host[0], host[1], host[2]};
}

}  // namespace

Metrics evaluate(Backend& backend, const Config& config, const ModelState& state,
                 const DeviceSplit& train, const DeviceSplit& test,
                 const std::vector<int32_t>& train_labels, const std::vector<int32_t>& test_labels) {
  Metrics m;
  m.test_images = static_cast<int>(test.count);
  LossSums losses = test_losses(backend, config, state, test);
  m.test_bce_sampled = losses.bce_sampled / test.count;
  m.test_bce_mean = losses.bce_mean / test.count;
  m.test_kl = losses.kl / test.count;

  const int latent = state.shape.latent;
  const int width = 2 * latent;
  Buffer test_mu = encode_split(backend, state, test, config.eval_batch);
  Buffer train_mu = encode_split(backend, state, train, config.eval_batch);
  std::vector<float> host_test(test.count * width), host_train(train.count * width);
  backend.download(host_test.data(), test_mu.as<void>(), sizeof(float) * host_test.size());
  backend.download(host_train.data(), train_mu.as<void>(), sizeof(float) * host_train.size());

  if (traits(config.method).prior == PriorMeans::per_class) {
    m.argmax_accuracy = argmax_accuracy(host_test.data(), test.count, width, test_labels.data(),
                                        config.classes);
    // The classifier of a class prior: the label whose mean is nearest to μ.
    const std::vector<int32_t> predicted = assign_to_centres(backend, test_mu.f32(), test.count, latent, width,
                                                             state.prior->means(), state.prior->num_means());
    int64_t right = 0;
    for (int64_t i = 0; i < test.count; ++i) right += predicted[i] == test_labels[i];
    m.nearest_centre_accuracy = static_cast<double>(right) / test.count;
  }

  // Clusters of the test set's μ: the model's own centroids for the K-Means VAE, else k-means
  // with K = classes (best of 3 k-means++ seedings), so that every method is measured alike.
  std::vector<int32_t> clusters;
  int k = config.classes;
  if (state.prior->kind() == PriorKind::nearest_centroid) {
    k = config.clusters;
    clusters = assign_to_centres(backend, test_mu.f32(), test.count, latent, width, state.prior->means(), k);
  } else {
    KMeansResult fit = kmeans_best_of(backend, test_mu.f32(), test.count, latent, width,
                                      k, 3, 300, config.eval_seed);
    clusters = fit.assignment;
  }
  m.cluster_accuracy_majority = cluster_accuracy_majority(clusters, test_labels, k, config.classes);
  m.cluster_accuracy_hungarian = cluster_accuracy_hungarian(clusters, test_labels, k, config.classes);
  m.nmi = normalized_mutual_information(clusters, test_labels, k, config.classes);

  LinearProbeResult probe = linear_probe(host_train.data(), train.count, train_labels.data(),
                                         host_test.data(), test.count, test_labels.data(), latent,
                                         width, config.classes);
  m.linear_probe_accuracy = probe.test_accuracy;
  m.linear_probe_train_accuracy = probe.train_accuracy;
  return m;
}

nlohmann::ordered_json metrics_json(const Metrics& m) {
  nlohmann::ordered_json j;
  j["test_bce_sampled"] = m.test_bce_sampled;
  j["test_bce_mean"] = m.test_bce_mean;
  j["test_kl"] = m.test_kl;
  j["argmax_accuracy"] = m.argmax_accuracy ? nlohmann::ordered_json(*m.argmax_accuracy) : nlohmann::ordered_json();
  j["nearest_centre_accuracy"] =
      m.nearest_centre_accuracy ? nlohmann::ordered_json(*m.nearest_centre_accuracy) : nlohmann::ordered_json();
  j["cluster_accuracy_majority"] = m.cluster_accuracy_majority;
  j["cluster_accuracy_hungarian"] = m.cluster_accuracy_hungarian;
  j["nmi"] = m.nmi;
  j["linear_probe_accuracy"] = m.linear_probe_accuracy;
  j["linear_probe_train_accuracy"] = m.linear_probe_train_accuracy;
  j["test_images"] = m.test_images;
  return j;
}

}  // namespace cvae

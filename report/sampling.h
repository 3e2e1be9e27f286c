// Images from a trained model: latent vectors drawn around a mean (the prior of a class, a k-means
// centre, the origin) and pushed through the decoder, and reconstructions z = μ(x). Pixels come
// back to the host as sigmoid(logits) ∈ [0, 1] — the Bernoulli means the paper's figures show.
//
// Noise is Philox (engine/rng.h) on RngStream::sample with one step per use (report/sample_uses.h).
#pragma once
#include <cstdint>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/config.h"
#include "engine/data/idx.h"
#include "engine/nn/model_state.h"
#include "report/sample_uses.h"

namespace cvae {

struct GeneratedImages {
  int64_t count = 0;
  int pixels = 0;
  std::vector<float> pixels_data;  // [count, pixels], values in [0, 1]
  std::vector<int32_t> group;      // the class (or cluster) each image was drawn for
};

// Decodes latent vectors z [n, latent] (host) into images; `labels` gives the CVAE decoder its
// one-hot (ignored, and may be empty, for the other methods).
GeneratedImages decode_latents(Backend& backend, const ModelState& state, const std::vector<float>& z,
                               const std::vector<int32_t>& labels, int eval_batch = 1000);

// Reconstructions z = μ(x) of the given rows of a split (with their labels for the CVAE).
GeneratedImages reconstruct_images(Backend& backend, const ModelState& state,
                                   const LabelledImages& split, const std::vector<int64_t>& rows);

// per_group images for every class (cvae, lambdahot) or every k-means centre (kmeans:
// z ~ N(c_k, I)), grouped: images [g·per_group, (g+1)·per_group) belong to group g.
// shared_noise: the s-th image of every group uses the same ε (columns of a grid share a "style");
// otherwise every image has its own.
GeneratedImages conditional_samples(Backend& backend, const Config& config, const ModelState& state,
                                    int per_group, uint64_t seed, SampleUse use, bool shared_noise);
GeneratedImages cluster_samples(Backend& backend, const Config& config, const ModelState& state,
                                int per_group, uint64_t seed, SampleUse use, bool shared_noise);

// n samples of the method's prior: N(0, I) for vae and beta, N(0, I) with a label drawn uniformly
// for cvae, the equal-weight mixture of its class means (lambdahot) or centroids (kmeans).
GeneratedImages prior_samples(Backend& backend, const Config& config, const ModelState& state,
                              int n, uint64_t seed);

}  // namespace cvae

// A small image classifier that judges generated samples: an MLP  pixels → 256 ReLU → classes,
// softmax cross-entropy, Adam (lr 1e-3, batch 128), trained on the CPU on the real training set
// (cvae::cpu::sgemm and plain loops), deterministic for a seed on a given machine and thread count.
// It turns "the samples look like the class" into a number: the fraction of class-conditional
// samples it assigns to the class they were drawn for.
// Why it does not go through the Backend like the VAE: it is the judge, not the thing judged. A
// run trained on the GPU and one trained on the CPU must be scored by the same classifier, bit
// for bit, so the judge runs on the host whatever device the report uses (and is cached on disk
// by the fingerprint of its data and options). Its twin ops (sgemm, Adam) are the CPU reference's.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/data/idx.h"

namespace cvae {

struct ClassifierOptions {
  int hidden = 256;
  int epochs = 3;
  int batch_size = 128;
  double lr = 1e-3;
  uint64_t seed = 1;
};

struct ImageClassifier {
  int inputs = 0, hidden = 0, classes = 0;
  std::vector<float> w1, b1, w2, b2;  // PyTorch layout: w1 [hidden, inputs], w2 [classes, hidden]
  double test_accuracy = 0;           // on the data set's test split, measured after training
  std::vector<double> test_accuracy_per_class;
  std::string data_fingerprint;       // of the training split it was fitted on (cache key)
};

// Trains on `train` (pixels / 255) and measures on `test`.
ImageClassifier train_image_classifier(const LabelledImages& train, const LabelledImages& test,
                                       int classes, const ClassifierOptions& options);

// Class scores → argmax for n images of values in [0, 1], [n, inputs] row-major.
std::vector<int32_t> classify_images(const ImageClassifier& classifier, const float* images,
                                     int64_t n);

// A short hexadecimal digest (FNV-1a, 64 bits) of a split's pixels, labels and options: the
// cache key of a classifier trained on it.
std::string classifier_fingerprint(const LabelledImages& train, int classes,
                                   const ClassifierOptions& options);

// safetensors bytes (weights; fingerprint and accuracies as metadata) and back.
std::string encode_classifier(const ImageClassifier& classifier);
ImageClassifier decode_classifier(const std::string& bytes, const std::string& source);

// The classifier for this training split: read from `cache_path` when the file is there and its
// fingerprint matches, else trained and written there (atomically; a cache that cannot be written
// is reported through `note` and otherwise ignored). An empty cache_path disables the cache.
ImageClassifier cached_image_classifier(const std::string& cache_path, const LabelledImages& train,
                                        const LabelledImages& test, int classes,
                                        const ClassifierOptions& options, std::string* note);

}  // namespace cvae

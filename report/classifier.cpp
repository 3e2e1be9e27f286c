#include "report/classifier.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "engine/backend/cpu/adam.h"
#include "engine/backend/cpu/gemm.h"
#include "engine/data/shuffle.h"
#include "engine/error.h"
#include "engine/io/files.h"
#include "engine/io/safetensors.h"
#include "engine/rng.h"
#include "report/sample_uses.h"

namespace cvae {

namespace {

// The four tensors in one flat buffer, so that Adam runs over it in one call.
struct FlatLayout {
  int64_t w1 = 0, b1 = 0, w2 = 0, b2 = 0, total = 0;
};

FlatLayout flat_layout(int inputs, int hidden, int classes) {
  FlatLayout f;
  f.w1 = 0;
  f.b1 = f.w1 + static_cast<int64_t>(hidden) * inputs;
  f.w2 = f.b1 + hidden;
  f.b2 = f.w2 + static_cast<int64_t>(classes) * hidden;
  f.total = f.b2 + classes;
  return f;
}

// h = relu(x W1ᵀ + b1), logits = h W2ᵀ + b2 for `rows` images.
void forward(const float* params, const FlatLayout& f, int inputs, int hidden, int classes,
             const float* x, int rows, float* h, float* logits) {
  cpu::sgemm(false, true, rows, hidden, inputs, 1.0f, x, inputs, params + f.w1, inputs, 0.0f, h, hidden);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < hidden; ++c) {
      float v = h[static_cast<int64_t>(r) * hidden + c] + params[f.b1 + c];
      h[static_cast<int64_t>(r) * hidden + c] = v > 0 ? v : 0;
    }
  cpu::sgemm(false, true, rows, classes, hidden, 1.0f, h, hidden, params + f.w2, hidden, 0.0f,
             logits, classes);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < classes; ++c) logits[static_cast<int64_t>(r) * classes + c] += params[f.b2 + c];
}

int argmax(const float* values, int count) {
  int best = 0;
  for (int c = 1; c < count; ++c)
    if (values[c] > values[best]) best = c;
  return best;
}

std::vector<float> flatten(const ImageClassifier& m) {
  FlatLayout f = flat_layout(m.inputs, m.hidden, m.classes);
  std::vector<float> params(f.total);
  std::copy(m.w1.begin(), m.w1.end(), params.begin() + f.w1);
  std::copy(m.b1.begin(), m.b1.end(), params.begin() + f.b1);
  std::copy(m.w2.begin(), m.w2.end(), params.begin() + f.w2);
  std::copy(m.b2.begin(), m.b2.end(), params.begin() + f.b2);
  return params;
}

void check_split(const LabelledImages& split, int classes, const std::string& what) {
  if (split.images.count < 1) fail("classifier: the " + what + " split is empty");
  if (classes < 2) fail("classifier: needs at least 2 classes");
}

// Accuracy on the test split, overall and per class.
void measure(ImageClassifier& m, const LabelledImages& test) {
  const int64_t n = test.images.count;
  std::vector<float> x(static_cast<size_t>(n) * m.inputs);
  for (size_t i = 0; i < x.size(); ++i) x[i] = test.images.pixels[i] / 255.0f;
  std::vector<int32_t> predicted = classify_images(m, x.data(), n);
  std::vector<int64_t> right(m.classes, 0), total(m.classes, 0);
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    int32_t y = test.labels.labels[i];
    ++total[y];
    if (predicted[i] == y) {
      ++right[y];
      ++correct;
    }
  }
  m.test_accuracy = static_cast<double>(correct) / n;
  m.test_accuracy_per_class.assign(m.classes, 0.0);
  for (int c = 0; c < m.classes; ++c)
    m.test_accuracy_per_class[c] = total[c] ? static_cast<double>(right[c]) / total[c] : 0.0;
}

}  // namespace

ImageClassifier train_image_classifier(const LabelledImages& train, const LabelledImages& test,
                                       int classes, const ClassifierOptions& options) {
  check_split(train, classes, "training");
  check_split(test, classes, "test");
  if (options.hidden < 1 || options.epochs < 1 || options.batch_size < 1 || !(options.lr > 0))
    fail("classifier: hidden, epochs, batch_size and lr must be positive");
  ImageClassifier m;
  m.inputs = train.images.rows * train.images.cols;
  m.hidden = options.hidden;
  m.classes = classes;
  m.data_fingerprint = classifier_fingerprint(train, classes, options);
  const FlatLayout f = flat_layout(m.inputs, m.hidden, m.classes);

  // PyTorch's nn.Linear initialisation, U(−1/√in, 1/√in), one Philox row per tensor.
  std::vector<float> params(f.total), grads(f.total), adam_m(f.total, 0.0f), adam_v(f.total, 0.0f);
  RngPosition at{options.seed, RngStream::sample, kSampleClassifierInit};
  const int64_t starts[4] = {f.w1, f.b1, f.w2, f.b2};
  const int64_t ends[4] = {f.b1, f.w2, f.b2, f.total};
  const int fan_in[4] = {m.inputs, m.inputs, m.hidden, m.hidden};
  for (int t = 0; t < 4; ++t) {
    double bound = 1.0 / std::sqrt(static_cast<double>(fan_in[t]));
    for (int64_t i = starts[t]; i < ends[t]; ++i)
      params[i] = static_cast<float>(
          (2.0 * uniform_at(at, static_cast<uint32_t>(t), static_cast<uint32_t>(i - starts[t])) - 1.0) * bound);
  }

  const int64_t n = train.images.count;
  const int batch_cap = static_cast<int>(std::min<int64_t>(options.batch_size, n));
  std::vector<float> x(static_cast<size_t>(batch_cap) * m.inputs), h(static_cast<size_t>(batch_cap) * m.hidden);
  std::vector<float> logits(static_cast<size_t>(batch_cap) * m.classes), d_logits(logits.size());
  std::vector<float> d_h(h.size());
  AdamArgs adam;
  adam.lr = static_cast<float>(options.lr);
  int64_t step = 0;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    std::vector<int32_t> order = shuffled_order(n, options.seed, epoch);
    for (int64_t start = 0; start < n; start += batch_cap) {
      const int rows = static_cast<int>(std::min<int64_t>(batch_cap, n - start));
      for (int r = 0; r < rows; ++r) {
        const uint8_t* image = &train.images.pixels[static_cast<size_t>(order[start + r]) * m.inputs];
        for (int c = 0; c < m.inputs; ++c) x[static_cast<size_t>(r) * m.inputs + c] = image[c] / 255.0f;
      }
      forward(params.data(), f, m.inputs, m.hidden, m.classes, x.data(), rows, h.data(), logits.data());
      // Softmax cross-entropy, mean over the batch: dlogits = (softmax − one_hot) / rows.
      std::fill(grads.begin(), grads.end(), 0.0f);
      for (int r = 0; r < rows; ++r) {
        const float* l = &logits[static_cast<size_t>(r) * m.classes];
        float* d = &d_logits[static_cast<size_t>(r) * m.classes];
        float top = *std::max_element(l, l + m.classes);
        double sum = 0;
        for (int c = 0; c < m.classes; ++c) sum += std::exp(static_cast<double>(l[c] - top));
        int32_t y = train.labels.labels[order[start + r]];
        for (int c = 0; c < m.classes; ++c) {
          double p = std::exp(static_cast<double>(l[c] - top)) / sum;
          d[c] = static_cast<float>((p - (c == y ? 1.0 : 0.0)) / rows);
          grads[f.b2 + c] += d[c];
        }
      }
      cpu::sgemm(true, false, m.classes, m.hidden, rows, 1.0f, d_logits.data(), m.classes, h.data(),
                 m.hidden, 0.0f, grads.data() + f.w2, m.hidden);
      cpu::sgemm(false, false, rows, m.hidden, m.classes, 1.0f, d_logits.data(), m.classes,
                 params.data() + f.w2, m.hidden, 0.0f, d_h.data(), m.hidden);
      for (int r = 0; r < rows; ++r)
        for (int c = 0; c < m.hidden; ++c) {
          float& d = d_h[static_cast<size_t>(r) * m.hidden + c];
          if (h[static_cast<size_t>(r) * m.hidden + c] <= 0) d = 0;
          grads[f.b1 + c] += d;
        }
      cpu::sgemm(true, false, m.hidden, m.inputs, rows, 1.0f, d_h.data(), m.hidden, x.data(),
                 m.inputs, 0.0f, grads.data() + f.w1, m.inputs);
      adam.step = ++step;
      cpu::adam_step(params.data(), grads.data(), adam_m.data(), adam_v.data(), f.total, adam);
    }
  }
  m.w1.assign(params.begin() + f.w1, params.begin() + f.b1);
  m.b1.assign(params.begin() + f.b1, params.begin() + f.w2);
  m.w2.assign(params.begin() + f.w2, params.begin() + f.b2);
  m.b2.assign(params.begin() + f.b2, params.end());
  measure(m, test);
  return m;
}

std::vector<int32_t> classify_images(const ImageClassifier& m, const float* images, int64_t n) {
  const FlatLayout f = flat_layout(m.inputs, m.hidden, m.classes);
  const std::vector<float> params = flatten(m);
  const int block = 1000;
  std::vector<float> h(static_cast<size_t>(block) * m.hidden), logits(static_cast<size_t>(block) * m.classes);
  std::vector<int32_t> out(n);
  for (int64_t start = 0; start < n; start += block) {
    int rows = static_cast<int>(std::min<int64_t>(block, n - start));
    forward(params.data(), f, m.inputs, m.hidden, m.classes, images + start * m.inputs, rows,
            h.data(), logits.data());
    for (int r = 0; r < rows; ++r) out[start + r] = argmax(&logits[static_cast<size_t>(r) * m.classes], m.classes);
  }
  return out;
}

std::string classifier_fingerprint(const LabelledImages& train, int classes,
                                   const ClassifierOptions& options) {
  uint64_t hash = 1469598103934665603ull;  // FNV-1a, 64 bits
  auto mix = [&hash](const void* data, size_t bytes) {
    const auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < bytes; ++i) {
      hash ^= p[i];
      hash *= 1099511628211ull;
    }
  };
  mix(train.images.pixels.data(), train.images.pixels.size());
  mix(train.labels.labels.data(), sizeof(int32_t) * train.labels.labels.size());
  char text[256];
  std::snprintf(text, sizeof text, "%d %d %d %d %d %d %.17g %llu", train.images.rows,
                train.images.cols, classes, options.hidden, options.epochs, options.batch_size,
                options.lr, static_cast<unsigned long long>(options.seed));
  mix(text, std::char_traits<char>::length(text));
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

std::string encode_classifier(const ImageClassifier& m) {
  std::vector<NamedTensor> tensors = {
      {"fc1.weight", {m.hidden, m.inputs}, m.w1},
      {"fc1.bias", {m.hidden}, m.b1},
      {"fc2.weight", {m.classes, m.hidden}, m.w2},
      {"fc2.bias", {m.classes}, m.b2},
  };
  char accuracy[64];
  std::snprintf(accuracy, sizeof accuracy, "%.17g", m.test_accuracy);
  std::map<std::string, std::string> metadata = {
      {"format", "clustervae-classifier-1"},
      {"fingerprint", m.data_fingerprint},
      {"test_accuracy", accuracy},
      {"test_accuracy_per_class", nlohmann::json(m.test_accuracy_per_class).dump()},
  };
  return encode_safetensors(tensors, metadata);
}

ImageClassifier decode_classifier(const std::string& bytes, const std::string& source) {
  SafetensorsFile file = decode_safetensors(bytes, source);
  auto meta = [&](const std::string& key) {
    auto it = file.metadata.find(key);
    if (it == file.metadata.end()) fail(source + ": metadata lacks '" + key + "'");
    return it->second;
  };
  if (meta("format") != "clustervae-classifier-1") fail(source + ": not a clustervae classifier");
  auto tensor = [&](const std::string& name, size_t dims) -> const NamedTensor& {
    auto it = file.tensors.find(name);
    if (it == file.tensors.end() || it->second.shape.size() != dims)
      fail(source + ": tensor '" + name + "' is missing or has the wrong rank");
    return it->second;
  };
  const NamedTensor& w1 = tensor("fc1.weight", 2);
  const NamedTensor& b1 = tensor("fc1.bias", 1);
  const NamedTensor& w2 = tensor("fc2.weight", 2);
  const NamedTensor& b2 = tensor("fc2.bias", 1);
  ImageClassifier m;
  m.hidden = static_cast<int>(w1.shape[0]);
  m.inputs = static_cast<int>(w1.shape[1]);
  m.classes = static_cast<int>(w2.shape[0]);
  if (b1.shape[0] != m.hidden || w2.shape[1] != m.hidden || b2.shape[0] != m.classes)
    fail(source + ": tensor shapes do not fit together");
  m.w1 = w1.values;
  m.b1 = b1.values;
  m.w2 = w2.values;
  m.b2 = b2.values;
  m.data_fingerprint = meta("fingerprint");
  try {
    m.test_accuracy = std::stod(meta("test_accuracy"));
    m.test_accuracy_per_class = nlohmann::json::parse(meta("test_accuracy_per_class")).get<std::vector<double>>();
  } catch (const std::exception&) {
    fail(source + ": metadata test_accuracy is not readable");
  }
  if (static_cast<int>(m.test_accuracy_per_class.size()) != m.classes)
    fail(source + ": test_accuracy_per_class has the wrong length");
  return m;
}

ImageClassifier cached_image_classifier(const std::string& cache_path, const LabelledImages& train,
                                        const LabelledImages& test, int classes,
                                        const ClassifierOptions& options, std::string* note) {
  const std::string wanted = classifier_fingerprint(train, classes, options);
  if (!cache_path.empty() && path_exists(cache_path)) {
    try {
      ImageClassifier cached = decode_classifier(read_file(cache_path), cache_path);
      if (cached.data_fingerprint == wanted && cached.classes == classes &&
          cached.inputs == train.images.rows * train.images.cols) {
        if (note) *note = "classifier read from " + cache_path;
        return cached;
      }
    } catch (const Error&) {
      // An unreadable or stale cache is replaced below.
    }
  }
  ImageClassifier trained = train_image_classifier(train, test, classes, options);
  if (note) *note = "classifier trained";
  if (!cache_path.empty()) {
    try {
      write_file_atomic(cache_path, encode_classifier(trained));
      if (note) *note += " and cached in " + cache_path;
    } catch (const Error& e) {
      if (note) *note += " (not cached: " + std::string(e.what()) + ")";
    }
  }
  return trained;
}

}  // namespace cvae

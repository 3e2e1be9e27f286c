#include "engine/data/dataset.h"

#include <cstdlib>
#include <numeric>
#include <vector>

#include "engine/error.h"
#include "engine/io/files.h"

namespace cvae {

namespace {

// The raw file, else its .gz twin; when neither exists the raw name is returned so that the
// reader's error names the file a user would look for.
std::string pick(const std::string& base) {
  if (path_exists(base)) return base;
  if (path_exists(base + ".gz")) return base + ".gz";
  return base;
}

// The first `limit` images (0: all). More than the split has is a mistake worth a word: the run
// would silently train on fewer images than asked.
void limit(LabelledImages& split, int limit, const char* key, const std::string& file) {
  if (limit > split.images.count)
    fail("config: " + std::string(key) + " = " + std::to_string(limit) + " is more than the " +
         std::to_string(split.images.count) + " images in " + file + " (0 takes them all)");
  if (limit <= 0 || limit == split.images.count) return;
  split.images.count = limit;
  split.images.pixels.resize(static_cast<size_t>(limit) * split.images.rows * split.images.cols);
  split.labels.count = limit;
  split.labels.labels.resize(limit);
}

}  // namespace

std::string dataset_title(const std::string& dataset) {
  if (dataset == "mnist") return "MNIST";
  if (dataset == "fashion") return "FashionMNIST";
  return dataset;
}

std::vector<std::string> class_names(const std::string& dataset, int classes) {
  static const char* const fashion[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                        "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  std::vector<std::string> names;
  for (int c = 0; c < classes; ++c)
    names.push_back(dataset == "fashion" && c < 10 ? fashion[c] : std::to_string(c));
  return names;
}

DatasetFiles resolve_dataset_files(const Config& config) {
  std::string dir = config.data_dir;
  if (dir.empty()) {
    const char* env = std::getenv("CLUSTERVAE_DATA");
    dir = env && *env ? env : "data";
  }
  DatasetFiles files;
  if (config.dataset != "custom") {
    std::string base = dir + "/" + config.dataset + "/";
    files.train_images = pick(base + "train-images-idx3-ubyte");
    files.train_labels = pick(base + "train-labels-idx1-ubyte");
    files.test_images = pick(base + "t10k-images-idx3-ubyte");
    files.test_labels = pick(base + "t10k-labels-idx1-ubyte");
  }
  if (!config.train_images.empty()) files.train_images = config.train_images;
  if (!config.train_labels.empty()) files.train_labels = config.train_labels;
  if (!config.test_images.empty()) files.test_images = config.test_images;
  if (!config.test_labels.empty()) files.test_labels = config.test_labels;
  // The set-up hint only for the files set-up lays: not for a path the user gave.
  const std::string* given[] = {&config.train_images, &config.train_labels, &config.test_images,
                                &config.test_labels};
  const std::string* chosen[] = {&files.train_images, &files.train_labels, &files.test_images,
                                 &files.test_labels};
  for (int i = 0; i < 4; ++i)
    if (!path_exists(*chosen[i]))
      fail(*chosen[i] + ": no such file" +
           (given[i]->empty() ? " (run scripts/setup.sh to lay the data sets)" : ""));
  return files;
}

HostDataset load_dataset(const Config& config) {
  DatasetFiles files = resolve_dataset_files(config);
  HostDataset data;
  data.train = read_idx_pair(files.train_images, files.train_labels, config.classes);
  data.test = read_idx_pair(files.test_images, files.test_labels, config.classes);
  if (data.train.images.rows != data.test.images.rows ||
      data.train.images.cols != data.test.images.cols)
    fail(files.test_images + ": images are " + std::to_string(data.test.images.rows) + "x" +
         std::to_string(data.test.images.cols) + " but the training images are " +
         std::to_string(data.train.images.rows) + "x" + std::to_string(data.train.images.cols));
  limit(data.train, config.train_limit, "train_limit", files.train_images);
  limit(data.test, config.test_limit, "test_limit", files.test_images);
  return data;
}

DeviceSplit upload_split(Backend& backend, const LabelledImages& split) {
  DeviceSplit device;
  device.count = split.images.count;
  device.images = backend.allocate(split.images.pixels.size());
  backend.upload(device.images.as<void>(), split.images.pixels.data(), split.images.pixels.size());
  device.labels = backend.allocate(sizeof(int32_t) * split.labels.labels.size());
  backend.upload(device.labels.as<void>(), split.labels.labels.data(),
                 sizeof(int32_t) * split.labels.labels.size());
  return device;
}

Buffer identity_indices(Backend& backend, int64_t n) {
  std::vector<int32_t> identity(n);
  std::iota(identity.begin(), identity.end(), 0);
  Buffer indices = backend.allocate(sizeof(int32_t) * n);
  backend.upload(indices.as<void>(), identity.data(), sizeof(int32_t) * n);
  return indices;
}

}  // namespace cvae

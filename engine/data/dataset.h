// The train and test splits of one data set, resolved from the config, read and checked on the host,
// then uploaded once to the backend as uint8 pixels and int32 labels.
#pragma once
#include <string>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/config.h"
#include "engine/data/idx.h"

namespace cvae {

struct DatasetFiles {
  std::string train_images, train_labels, test_images, test_labels;
};

// dataset=mnist|fashion: <data_dir>/<name>/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz];
// explicit paths in the config win. data_dir defaults to $CLUSTERVAE_DATA, else ./data.
DatasetFiles resolve_dataset_files(const Config& config);

// What a reader calls a data set ("MNIST", "FashionMNIST"; another name as it is) and its
// classes (digits for MNIST, garments for FashionMNIST, else the class number).
std::string dataset_title(const std::string& dataset);
std::vector<std::string> class_names(const std::string& dataset, int classes);

struct HostDataset {
  LabelledImages train, test;
  int pixels() const { return train.images.rows * train.images.cols; }
};

// Reads and checks both splits (same image size in both; train_limit / test_limit applied).
HostDataset load_dataset(const Config& config);

// One split in backend memory.
struct DeviceSplit {
  Buffer images;  // uint8 [count, pixels]
  Buffer labels;  // int32 [count]
  int64_t count = 0;
};

DeviceSplit upload_split(Backend& backend, const LabelledImages& split);

// 0, 1, …, n−1 in backend memory: the batch indices of a pass over a split in order.
Buffer identity_indices(Backend& backend, int64_t n);

}  // namespace cvae

// The configurations and data the tests share: tiny models that train in milliseconds on the
// synthetic data of tests/tiny_data.h, and the real MNIST files, which set-up lays into data/
// (tests that need them skip, visibly, without them).
#pragma once
#include <string>

#include "engine/config.h"
#include "engine/io/files.h"
#include "engine/method.h"

namespace cvae::test {

// A tiny MLP VAE: 16 hidden units, 5 latent dimensions, 3 classes (and 3 clusters), λ = 2.
inline Config tiny_config(Method method) {
  Config c;
  c.method = method;
  c.hidden = 16;
  c.latent_dim = 5;
  c.classes = 3;
  c.clusters = 3;
  c.lambda = 2.0;
  c.beta = method == Method::beta ? 5.0 : 1.0;
  c.batch_size = 8;
  c.eval_batch = 16;
  c.threads = 2;
  return c;
}

// The same as a conv VAE on 8×8 images (side/4 = 2) with 2 and 3 channels.
inline Config tiny_conv_config(Method method) {
  Config c = tiny_config(method);
  c.arch = "conv";
  c.conv1_channels = 2;
  c.conv2_channels = 3;
  c.batch_size = 6;
  c.threads = 1;
  return c;
}

inline std::string data_dir() { return std::string(CLUSTERVAE_SOURCE_DIR) + "/data"; }

// Whether set-up has laid the MNIST test split (the smallest file a real-data test reads).
inline bool have_mnist() { return path_exists(data_dir() + "/mnist/t10k-images-idx3-ubyte"); }
inline bool have_mnist_train() { return path_exists(data_dir() + "/mnist/train-images-idx3-ubyte"); }
constexpr const char* kNoMnist = "skipped: no MNIST data (run scripts/setup.sh)";

// A short run on the real MNIST images, quietly, into `out`.
inline Config mnist_config(Method method, const std::string& out, int epochs, int train_limit, int test_limit) {
  Config c;
  c.method = method;
  c.data_dir = data_dir();
  c.epochs = epochs;
  c.train_limit = train_limit;
  c.test_limit = test_limit;
  c.out = out;
  c.progress = "off";
  return c;
}

}  // namespace cvae::test

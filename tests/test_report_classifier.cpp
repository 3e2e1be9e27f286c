// The sample classifier: it learns a separable data set, is deterministic for a seed, survives a
// round trip through its safetensors file, and the cache is used only when the data match.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "engine/data/idx.h"
#include "engine/error.h"
#include "engine/io/files.h"
#include "report/classifier.h"
#include "tests/test_helpers.h"
#include "tests/test_report_helpers.h"

using namespace cvae;

namespace {

struct Splits {
  LabelledImages train, test;
};

Splits synthetic_splits(const std::string& dir) {
  test::SyntheticData d = test::write_synthetic_data(dir, 4, 8, 400, 200);
  Splits s;
  s.train = read_idx_pair(d.train_images, d.train_labels, 4);
  s.test = read_idx_pair(d.test_images, d.test_labels, 4);
  return s;
}

}  // namespace

TEST_CASE("the sample classifier learns separable synthetic classes", "[report]") {
  test::ScratchDir dir;
  Splits s = synthetic_splits(dir.path);
  ClassifierOptions options;
  options.hidden = 32;
  options.epochs = 5;
  options.batch_size = 32;
  ImageClassifier m = train_image_classifier(s.train, s.test, 4, options);
  REQUIRE(m.test_accuracy >= 0.95);
  REQUIRE(m.test_accuracy_per_class.size() == 4);
  std::vector<float> x(s.test.images.pixels.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = s.test.images.pixels[i] / 255.0f;
  std::vector<int32_t> predicted = classify_images(m, x.data(), s.test.images.count);
  int64_t right = 0;
  for (int64_t i = 0; i < s.test.images.count; ++i) right += predicted[i] == s.test.labels.labels[i];
  REQUIRE(static_cast<double>(right) / s.test.images.count == Approx(m.test_accuracy));

  ImageClassifier again = train_image_classifier(s.train, s.test, 4, options);
  REQUIRE(again.w1 == m.w1);
  REQUIRE(again.b2 == m.b2);
}

TEST_CASE("a classifier round-trips through its safetensors bytes", "[report]") {
  test::ScratchDir dir;
  Splits s = synthetic_splits(dir.path);
  ClassifierOptions options;
  options.hidden = 16;
  options.epochs = 1;
  ImageClassifier m = train_image_classifier(s.train, s.test, 4, options);
  ImageClassifier back = decode_classifier(encode_classifier(m), "memory");
  REQUIRE(back.inputs == m.inputs);
  REQUIRE(back.hidden == m.hidden);
  REQUIRE(back.classes == m.classes);
  REQUIRE(back.w1 == m.w1);
  REQUIRE(back.b1 == m.b1);
  REQUIRE(back.w2 == m.w2);
  REQUIRE(back.b2 == m.b2);
  REQUIRE(back.test_accuracy == m.test_accuracy);
  REQUIRE(back.test_accuracy_per_class == m.test_accuracy_per_class);
  REQUIRE(back.data_fingerprint == m.data_fingerprint);
  REQUIRE_THROWS_WITH(decode_classifier("garbage", "c.safetensors"), Catch::Contains("c.safetensors"));
}

TEST_CASE("the classifier cache is read when the data match and replaced when they do not", "[report]") {
  test::ScratchDir dir;
  Splits s = synthetic_splits(dir.path);
  ClassifierOptions options;
  options.hidden = 16;
  options.epochs = 1;
  const std::string cache = dir.path + "/classifier.safetensors";
  std::string note;
  ImageClassifier first = cached_image_classifier(cache, s.train, s.test, 4, options, &note);
  REQUIRE_THAT(note, Catch::Contains("trained") && Catch::Contains("cached"));
  ImageClassifier second = cached_image_classifier(cache, s.train, s.test, 4, options, &note);
  REQUIRE_THAT(note, Catch::Contains("read from"));
  REQUIRE(second.w1 == first.w1);
  // Other training data (one label changed): a new fingerprint, so the cache is not used.
  LabelledImages changed = s.train;
  changed.labels.labels[0] = (changed.labels.labels[0] + 1) % 4;
  cached_image_classifier(cache, changed, s.test, 4, options, &note);
  REQUIRE_THAT(note, Catch::Contains("trained"));
  // An unwritable cache is reported, not fatal.
  cached_image_classifier(dir.path + "/no/such/folder/c.safetensors", s.train, s.test, 4, options, &note);
  REQUIRE_THAT(note, Catch::Contains("not cached"));
}

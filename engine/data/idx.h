// The IDX reader: MNIST / FashionMNIST image and label files, raw or gzip-compressed.
//
// Format (see shared/datasets.md): a big-endian header — magic 0x00000803 then [count, rows, cols] for
// images, magic 0x00000801 then [count] for labels — followed by exactly the unsigned bytes it promises.
// Compression is detected from the gzip magic bytes (1f 8b), never from the file name.
//
// Every check fails with cvae::Error, one line naming the file and the problem. The reader never
// allocates more than the header promises, caps the image payload at 4 GiB, and stops inflating a gzip
// stream as soon as it yields more bytes than the header promises (so a gzip bomb fails at once).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cvae {

struct IdxImages {
  std::vector<uint8_t> pixels;  // count * rows * cols, row-major, image after image
  int64_t count = 0;
  int rows = 0, cols = 0;
};

struct IdxLabels {
  std::vector<int32_t> labels;  // count entries, each in 0..classes-1
  int64_t count = 0;
};

// Both files of one split, with the same count.
struct LabelledImages {
  IdxImages images;
  IdxLabels labels;
};

// Limits a header must respect; anything outside them is a corrupt or hostile file, not a data set.
constexpr int kIdxMaxSide = 4096;                          // rows and cols each in 1..kIdxMaxSide
constexpr uint64_t kIdxMaxImageBytes = uint64_t{4} << 30;  // 4 GiB of pixels

// Reads an IDX3 unsigned-byte image file (magic 0x00000803), raw or gzip-compressed.
IdxImages read_idx_images(const std::string& path);

// Reads an IDX1 unsigned-byte label file (magic 0x00000801); every label must be < classes.
IdxLabels read_idx_labels(const std::string& path, int classes);

// Reads the images and labels of one split and checks that their counts agree.
LabelledImages read_idx_pair(const std::string& images_path, const std::string& labels_path,
                             int classes);

}  // namespace cvae

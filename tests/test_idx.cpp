// The IDX reader: round trips (raw, gzip, concatenated gzip members), every malformed-file check with
// its one-line message, gzip bombs, and — when the real files are installed — MNIST and FashionMNIST.
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "engine/data/idx.h"
#include "engine/error.h"

namespace {

using Bytes = std::vector<uint8_t>;

// A fresh directory under /tmp for one test, removed with everything in it afterwards.
struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/cvae_test_idx_XXXXXX";
    if (!mkdtemp(name)) FAIL("mkdtemp failed");
    path = name;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::string file(const std::string& name) const { return path + "/" + name; }
};

void put_be32(Bytes& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(value >> shift));
}

// A seeded, compressible but non-trivial pixel pattern (an LCG), so round trips check real values.
Bytes pattern(size_t n, uint32_t seed) {
  Bytes out(n);
  uint32_t state = seed;
  for (size_t i = 0; i < n; ++i) {
    state = state * 1664525u + 1013904223u;
    out[i] = static_cast<uint8_t>((state >> 24) & 0x3f);  // 6 bits: deflate finds something to do
  }
  return out;
}

Bytes idx3(uint32_t count, uint32_t rows, uint32_t cols, const Bytes& pixels,
           uint32_t magic = 0x00000803) {
  Bytes out;
  put_be32(out, magic);
  put_be32(out, count);
  put_be32(out, rows);
  put_be32(out, cols);
  out.insert(out.end(), pixels.begin(), pixels.end());
  return out;
}

Bytes idx1(uint32_t count, const Bytes& labels, uint32_t magic = 0x00000801) {
  Bytes out;
  put_be32(out, magic);
  put_be32(out, count);
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

void write_raw(const std::string& path, const Bytes& bytes) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  REQUIRE(file != nullptr);
  // An empty file is written by opening it: fwrite may not be handed the null data() of an
  // empty vector (UBSan says so).
  if (!bytes.empty()) REQUIRE(std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size());
  REQUIRE(std::fclose(file) == 0);
}

Bytes read_raw(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  REQUIRE(file != nullptr);
  Bytes bytes;
  uint8_t chunk[4096];
  size_t got;
  while ((got = std::fread(chunk, 1, sizeof chunk, file)) > 0) bytes.insert(bytes.end(), chunk, chunk + got);
  std::fclose(file);
  return bytes;
}

// mode "wb" writes a new gzip file, "ab" appends a second gzip member to it.
void write_gz(const std::string& path, const Bytes& bytes, const char* mode = "wb") {
  gzFile file = gzopen(path.c_str(), mode);
  REQUIRE(file != nullptr);
  if (!bytes.empty())
    REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) ==
            static_cast<int>(bytes.size()));
  REQUIRE(gzclose(file) == Z_OK);
}

// Raw deflate of `n` bytes ending in `flush`; with Z_FULL_FLUSH the output is byte-aligned and refers
// to nothing before it, so copies of it can be concatenated into one valid deflate stream.
Bytes deflate_part(z_stream& zs, const uint8_t* in, size_t n, int flush) {
  Bytes out;
  zs.next_in = const_cast<uint8_t*>(in);
  zs.avail_in = static_cast<uInt>(n);
  uint8_t chunk[1 << 16];
  do {
    zs.next_out = chunk;
    zs.avail_out = sizeof chunk;
    const int rc = deflate(&zs, flush);
    REQUIRE((rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR));
    out.insert(out.end(), chunk, chunk + (sizeof chunk - zs.avail_out));
  } while (zs.avail_out == 0);
  return out;
}

// A valid gzip file (correct CRC-32 and ISIZE) whose content is `head` followed by `mebibytes` MiB of
// zeros: one compressed 1 MiB block of zeros (~1 KB) repeated, so a multi-GiB bomb is built in
// milliseconds and is a few MB on disk.
Bytes gzip_bomb(const Bytes& head, uint32_t mebibytes) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  const Bytes zeros(size_t{1} << 20, 0);
  const Bytes head_part = deflate_part(zs, head.data(), head.size(), Z_FULL_FLUSH);
  const Bytes zeros_part = deflate_part(zs, zeros.data(), zeros.size(), Z_FULL_FLUSH);
  const Bytes final_part = deflate_part(zs, nullptr, 0, Z_FINISH);
  deflateEnd(&zs);

  Bytes out = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};  // gzip header: deflate, no flags, Unix
  // All the room at once (also keeps GCC 12 from a false -Warray-bounds on the growing insert).
  out.reserve(out.size() + head_part.size() + size_t{mebibytes} * zeros_part.size() + final_part.size() + 8);
  out.insert(out.end(), head_part.begin(), head_part.end());
  uLong crc = crc32(0, head.data(), static_cast<uInt>(head.size()));
  const uLong zeros_crc = crc32(0, zeros.data(), static_cast<uInt>(zeros.size()));
  for (uint32_t i = 0; i < mebibytes; ++i) {
    out.insert(out.end(), zeros_part.begin(), zeros_part.end());
    crc = crc32_combine(crc, zeros_crc, static_cast<z_off_t>(zeros.size()));
  }
  out.insert(out.end(), final_part.begin(), final_part.end());
  const uint32_t isize = static_cast<uint32_t>(head.size() + (uint64_t{mebibytes} << 20));
  for (uint32_t value : {static_cast<uint32_t>(crc), isize})
    for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<uint8_t>(value >> shift));
  return out;
}

// Runs `read`, which must throw cvae::Error with a one-line message naming `path` and `phrase`.
void check_fails(const std::function<void()>& read, const std::string& path, const std::string& phrase) {
  std::string message;
  try {
    read();
  } catch (const cvae::Error& e) {
    message = e.what();
  }
  INFO("message: " << message);
  REQUIRE_FALSE(message.empty());
  CHECK(message.find(path) != std::string::npos);
  CHECK(message.find(phrase) != std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
}

// The folder holding mnist/ and fashion/ if the real data is installed: $CVAE_DATA_DIR, ./data or
// ../data (ctest runs from the build folder); empty if none.
std::string data_dir() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("CVAE_DATA_DIR")) candidates.push_back(env);
  candidates.push_back("data");
  candidates.push_back("../data");
  for (const auto& dir : candidates)
    if (std::filesystem::exists(dir + "/mnist/t10k-images-idx3-ubyte")) return dir;
  return "";
}

}  // namespace

// ---- round trips -------------------------------------------------------------------------------

TEST_CASE("raw IDX images and labels round trip values and dimensions", "[idx]") {
  TempDir dir;
  const Bytes pixels = pattern(3 * 4 * 5, 1);
  const Bytes labels = {7, 0, 9};
  write_raw(dir.file("images"), idx3(3, 4, 5, pixels));
  write_raw(dir.file("labels"), idx1(3, labels));

  const cvae::LabelledImages pair = cvae::read_idx_pair(dir.file("images"), dir.file("labels"), 10);
  CHECK(pair.images.count == 3);
  CHECK(pair.images.rows == 4);
  CHECK(pair.images.cols == 5);
  CHECK(pair.images.pixels == pixels);
  CHECK(pair.labels.count == 3);
  CHECK(pair.labels.labels == std::vector<int32_t>{7, 0, 9});
}

TEST_CASE("gzip IDX files are detected by their magic bytes, not their name, and round trip", "[idx]") {
  TempDir dir;
  const Bytes pixels = pattern(6 * 28 * 28, 2);
  const Bytes labels = {1, 2, 3, 4, 5, 0};
  write_gz(dir.file("images.idx"), idx3(6, 28, 28, pixels));  // no .gz suffix on purpose
  write_gz(dir.file("labels.gz"), idx1(6, labels));

  const cvae::IdxImages images = cvae::read_idx_images(dir.file("images.idx"));
  CHECK(images.count == 6);
  CHECK(images.rows == 28);
  CHECK(images.cols == 28);
  CHECK(images.pixels == pixels);
  const cvae::IdxLabels read = cvae::read_idx_labels(dir.file("labels.gz"), 6);
  CHECK(read.count == 6);
  CHECK(read.labels == std::vector<int32_t>{1, 2, 3, 4, 5, 0});
}

TEST_CASE("a raw file named .gz is read as raw", "[idx]") {
  TempDir dir;
  const Bytes pixels = pattern(2 * 3 * 3, 3);
  write_raw(dir.file("images.gz"), idx3(2, 3, 3, pixels));
  CHECK(cvae::read_idx_images(dir.file("images.gz")).pixels == pixels);
}

TEST_CASE("concatenated gzip members read as one stream", "[idx]") {
  TempDir dir;
  const Bytes file = idx3(4, 8, 8, pattern(4 * 8 * 8, 4));
  const size_t half = file.size() / 2;
  write_gz(dir.file("images"), Bytes(file.begin(), file.begin() + half));
  write_gz(dir.file("images"), Bytes(file.begin() + half, file.end()), "ab");
  CHECK(cvae::read_idx_images(dir.file("images")).pixels == Bytes(file.begin() + 16, file.end()));
}

// ---- missing and short files -------------------------------------------------------------------

TEST_CASE("a missing file fails naming the path", "[idx]") {
  TempDir dir;
  const std::string path = dir.file("no-such-file");
  check_fails([&] { cvae::read_idx_images(path); }, path, "cannot open");
  check_fails([&] { cvae::read_idx_labels(path, 10); }, path, "cannot open");
}

TEST_CASE("a directory in place of a file fails with a read error", "[idx]") {
  TempDir dir;
  check_fails([&] { cvae::read_idx_images(dir.path); }, dir.path, "read error");
}

TEST_CASE("files shorter than the header fail as too short", "[idx]") {
  TempDir dir;
  const std::string empty = dir.file("empty"), ten = dir.file("ten"), gz = dir.file("short.gz");
  write_raw(empty, {});
  const Bytes header = idx3(1, 1, 1, {});
  write_raw(ten, Bytes(header.begin(), header.begin() + 10));
  write_gz(gz, {0, 0, 8, 3, 0, 0});
  check_fails([&] { cvae::read_idx_images(empty); }, empty, "too short");
  check_fails([&] { cvae::read_idx_images(ten); }, ten, "less than the 16-byte IDX3 images header");
  check_fails([&] { cvae::read_idx_labels(empty, 10); }, empty, "too short");
  check_fails([&] { cvae::read_idx_images(gz); }, gz, "gzip stream inflates to only 6 bytes");
}

// ---- header checks -----------------------------------------------------------------------------

TEST_CASE("wrong magic fails naming the magic found and the one expected", "[idx]") {
  TempDir dir;
  const std::string labels = dir.file("labels"), images = dir.file("images");
  write_raw(labels, idx1(20, Bytes(20, 1)));
  write_raw(images, idx3(1, 2, 2, Bytes(4, 1)));
  check_fails([&] { cvae::read_idx_images(labels); }, labels,
              "wrong magic 0x00000801, expected 0x00000803 (IDX3 images)");
  check_fails([&] { cvae::read_idx_labels(images, 10); }, images,
              "wrong magic 0x00000803, expected 0x00000801 (IDX1 labels)");
  const std::string floats = dir.file("floats");  // IDX type 0x0D (float), not unsigned byte
  write_raw(floats, idx3(1, 1, 1, Bytes(4, 0), 0x00000D03));
  check_fails([&] { cvae::read_idx_images(floats); }, floats, "wrong magic 0x00000D03");
}

TEST_CASE("zero or absurd dimensions fail before anything is allocated", "[idx]") {
  TempDir dir;
  const std::string path = dir.file("images");
  write_raw(path, idx3(0, 28, 28, {}));
  check_fails([&] { cvae::read_idx_images(path); }, path, "count must be at least 1");
  write_raw(path, idx3(1, 0, 28, {}));
  check_fails([&] { cvae::read_idx_images(path); }, path, "rows must be in 1..4096");
  write_raw(path, idx3(1, 28, 4097, {}));
  check_fails([&] { cvae::read_idx_images(path); }, path, "cols must be in 1..4096");
  write_raw(path, idx3(1, 0xFFFFFFFF, 0xFFFFFFFF, {}));
  check_fails([&] { cvae::read_idx_images(path); }, path, "rows must be in 1..4096");
  write_raw(path, idx1(0, {}));
  check_fails([&] { cvae::read_idx_labels(path, 10); }, path, "label count 0");
}

TEST_CASE("overflowing dimensions hit the 4 GiB cap", "[idx]") {
  TempDir dir;
  const std::string raw = dir.file("images"), gz = dir.file("images.gz");
  write_raw(raw, idx3(0xFFFFFFFF, 4096, 4096, Bytes(100, 0)));
  write_gz(gz, idx3(0xFFFFFFFF, 4096, 4096, Bytes(100, 0)));
  check_fails([&] { cvae::read_idx_images(raw); }, raw, "exceed the 4 GiB cap");
  check_fails([&] { cvae::read_idx_images(gz); }, gz, "exceed the 4 GiB cap");
  // One image past the cap: 4 GiB + 4096*4096 bytes.
  write_raw(raw, idx3(257, 4096, 4096, {}));
  check_fails([&] { cvae::read_idx_images(raw); }, raw, "4311744512 bytes of pixels exceed");
}

// ---- payload size ------------------------------------------------------------------------------

TEST_CASE("a truncated raw payload fails naming promised and present sizes", "[idx]") {
  TempDir dir;
  const std::string images = dir.file("images"), labels = dir.file("labels");
  write_raw(images, idx3(3, 4, 4, pattern(2 * 16 + 5, 5)));
  write_raw(labels, idx1(10, Bytes(9, 0)));
  check_fails([&] { cvae::read_idx_images(images); }, images,
              "truncated: header promises 48 bytes of pixels (3 x 4 x 4), the file holds 37");
  check_fails([&] { cvae::read_idx_labels(labels, 10); }, labels, "truncated: header promises 10");
}

TEST_CASE("a count far larger than the file fails at once", "[idx]") {
  TempDir dir;
  const std::string raw = dir.file("images"), gz = dir.file("images.gz");
  // 5,000,000 images of 28x28 = 3.92 GB promised (under the cap), one image present.
  write_raw(raw, idx3(5000000, 28, 28, pattern(784, 6)));
  write_gz(gz, idx3(5000000, 28, 28, pattern(784, 6)));
  check_fails([&] { cvae::read_idx_images(raw); }, raw, "truncated: header promises 3920000000 bytes");
  // gzip cannot know the size up front; it reads into a first chunk (64 MiB), never the full 3.9 GB.
  check_fails([&] { cvae::read_idx_images(gz); }, gz, "the gzip stream holds only 784");
}

TEST_CASE("trailing bytes after the payload fail", "[idx]") {
  TempDir dir;
  const std::string raw = dir.file("images"), gz = dir.file("images.gz"), labels = dir.file("labels");
  write_raw(raw, idx3(2, 4, 4, pattern(2 * 16 + 1, 7)));
  write_gz(gz, idx3(2, 4, 4, pattern(3 * 16, 7)));
  write_raw(labels, idx1(3, {1, 2, 3, 4}));
  check_fails([&] { cvae::read_idx_images(raw); }, raw, "trailing bytes: header promises 32 bytes");
  check_fails([&] { cvae::read_idx_images(gz); }, gz, "trailing bytes: the gzip stream inflates to more");
  check_fails([&] { cvae::read_idx_labels(labels, 10); }, labels, "trailing bytes");
}

TEST_CASE("a short gzip payload that ends cleanly fails as truncated", "[idx]") {
  TempDir dir;
  const std::string gz = dir.file("images.gz");
  write_gz(gz, idx3(3, 4, 4, pattern(2 * 16, 8)));
  check_fails([&] { cvae::read_idx_images(gz); }, gz,
              "truncated: header promises 48 bytes of pixels (3 x 4 x 4), the gzip stream holds only 32");
}

// ---- damaged gzip ------------------------------------------------------------------------------

TEST_CASE("corrupt gzip streams fail as corrupt", "[idx]") {
  TempDir dir;
  const std::string path = dir.file("images.gz");
  write_gz(path, idx3(50, 28, 28, pattern(50 * 784, 9)));
  const Bytes good = read_raw(path);
  REQUIRE(good.size() > 200);

  SECTION("bytes flipped in the middle of the deflate stream") {
    Bytes bad = good;
    for (size_t i = bad.size() / 2; i < bad.size() / 2 + 8; ++i) bad[i] ^= 0xA5;
    write_raw(path, bad);
    check_fails([&] { cvae::read_idx_images(path); }, path, "corrupt gzip stream");
  }
  SECTION("a flipped CRC-32 in the trailer") {
    Bytes bad = good;
    bad[bad.size() - 8] ^= 0x01;
    write_raw(path, bad);
    check_fails([&] { cvae::read_idx_images(path); }, path, "corrupt gzip stream: incorrect data check");
  }
  SECTION("garbage after the end of the gzip stream") {
    Bytes bad = good;
    for (uint8_t byte : {'j', 'u', 'n', 'k'}) bad.push_back(byte);
    write_raw(path, bad);
    check_fails([&] { cvae::read_idx_images(path); }, path, "trailing bytes after the end of the gzip stream");
  }
}

TEST_CASE("truncated gzip streams fail as truncated", "[idx]") {
  TempDir dir;
  const std::string path = dir.file("images.gz");
  write_gz(path, idx3(50, 28, 28, pattern(50 * 784, 10)));
  const Bytes good = read_raw(path);

  SECTION("cut in the middle of the compressed data") {
    write_raw(path, Bytes(good.begin(), good.begin() + good.size() / 2));
    check_fails([&] { cvae::read_idx_images(path); }, path, "truncated gzip stream");
  }
  SECTION("the payload complete but the 8-byte trailer cut off") {
    write_raw(path, Bytes(good.begin(), good.end() - 8));
    check_fails([&] { cvae::read_idx_images(path); }, path, "truncated gzip stream");
  }
}

TEST_CASE("the gzip bomb builder makes a valid gzip stream", "[idx]") {
  // Checks the test's own tool with zlib's gzread on a small bomb, so the big one below is known valid.
  TempDir dir;
  const std::string path = dir.file("small-bomb.gz");
  const Bytes head = idx3(1, 28, 28, pattern(784, 11));
  write_raw(path, gzip_bomb(head, 3));
  gzFile file = gzopen(path.c_str(), "rb");
  REQUIRE(file != nullptr);
  Bytes content;
  uint8_t chunk[1 << 16];
  int got;
  while ((got = gzread(file, chunk, sizeof chunk)) > 0) content.insert(content.end(), chunk, chunk + got);
  int error = Z_OK;
  gzerror(file, &error);
  gzclose(file);
  CHECK(got == 0);
  CHECK(error == Z_OK);
  REQUIRE(content.size() == head.size() + (size_t{3} << 20));
  CHECK(Bytes(content.begin(), content.begin() + head.size()) == head);
  CHECK(std::all_of(content.begin() + head.size(), content.end(), [](uint8_t b) { return b == 0; }));
}

TEST_CASE("a gzip bomb fails at once without inflating it", "[idx]") {
  // Header: 1 image of 28x28; the stream then inflates to 4 GiB more zeros from ~4 MB on disk.
  TempDir dir;
  const std::string path = dir.file("bomb.gz");
  const Bytes bomb = gzip_bomb(idx3(1, 28, 28, pattern(784, 12)), 4096);
  write_raw(path, bomb);
  INFO("bomb file: " << bomb.size() << " bytes");
  check_fails([&] { cvae::read_idx_images(path); }, path,
              "trailing bytes: the gzip stream inflates to more than the 784 bytes");
}

TEST_CASE("a gzip payload larger than the first 64 MiB read chunk reads completely", "[idx]") {
  // 80 images of 1024x1024 zeros (80 MiB): the reader fills its first chunk, then grows to the full
  // promised size. The bomb builder makes the stream cheaply; here it holds exactly what is promised.
  TempDir dir;
  const std::string path = dir.file("big.gz");
  write_raw(path, gzip_bomb(idx3(80, 1024, 1024, {}), 80));
  const cvae::IdxImages images = cvae::read_idx_images(path);
  CHECK(images.count == 80);
  REQUIRE(images.pixels.size() == size_t{80} << 20);
  CHECK(images.pixels.capacity() == images.pixels.size());
  CHECK(std::all_of(images.pixels.begin(), images.pixels.end(), [](uint8_t b) { return b == 0; }));
}

// ---- labels and pairs --------------------------------------------------------------------------

TEST_CASE("a label out of range fails naming its index and value", "[idx]") {
  TempDir dir;
  const std::string raw = dir.file("labels"), gz = dir.file("labels.gz");
  write_raw(raw, idx1(5, {1, 2, 9, 10, 3}));
  write_gz(gz, idx1(3, {0, 255, 1}));
  check_fails([&] { cvae::read_idx_labels(raw, 10); }, raw, "label 10 at index 3 out of range 0..9");
  check_fails([&] { cvae::read_idx_labels(gz, 10); }, gz, "label 255 at index 1 out of range 0..9");
  CHECK(cvae::read_idx_labels(raw, 11).labels == std::vector<int32_t>{1, 2, 9, 10, 3});
  check_fails([&] { cvae::read_idx_labels(raw, 0); }, raw, "classes must be at least 1");
}

TEST_CASE("a pair whose counts differ fails naming both files", "[idx]") {
  TempDir dir;
  const std::string images = dir.file("images"), labels = dir.file("labels");
  write_raw(images, idx3(3, 2, 2, pattern(12, 13)));
  write_raw(labels, idx1(4, {0, 1, 2, 3}));
  check_fails([&] { cvae::read_idx_pair(images, labels, 10); }, images, "count mismatch");
  check_fails([&] { cvae::read_idx_pair(images, labels, 10); }, labels, "has 3 images");
  check_fails([&] { cvae::read_idx_pair(images, labels, 10); }, labels, "has 4 labels");
}

// ---- the real data, when installed -------------------------------------------------------------

TEST_CASE("MNIST test split reads as 10000 images of 28x28 with labels 0..9", "[idx][data]") {
  const std::string dir = data_dir();
  if (dir.empty()) {
    WARN("MNIST not found in $CVAE_DATA_DIR, ./data or ../data: skipping the real-data check");
    return;
  }
  const cvae::LabelledImages test = cvae::read_idx_pair(
      dir + "/mnist/t10k-images-idx3-ubyte", dir + "/mnist/t10k-labels-idx1-ubyte", 10);
  CHECK(test.images.count == 10000);
  CHECK(test.images.rows == 28);
  CHECK(test.images.cols == 28);
  CHECK(test.images.pixels.size() == size_t{10000} * 28 * 28);
  REQUIRE(test.labels.labels.size() == 10000);
  std::vector<int> per_class(10, 0);
  for (int32_t label : test.labels.labels) {
    REQUIRE(label >= 0);
    REQUIRE(label <= 9);
    ++per_class[label];
  }
  for (int count : per_class) CHECK(count > 0);
  CHECK(test.labels.labels[0] == 7);  // the first MNIST test digit is a 7
}

TEST_CASE("FashionMNIST gzip files from Debian read the same as the raw ones", "[idx][data]") {
  const std::string gz_dir = "/usr/share/datasets/fashion-mnist";
  const std::string dir = data_dir();
  if (!std::filesystem::exists(gz_dir + "/t10k-images-idx3-ubyte.gz")) {
    WARN("FashionMNIST not installed in " << gz_dir << ": skipping the gzip real-data check");
    return;
  }
  const cvae::LabelledImages gz = cvae::read_idx_pair(
      gz_dir + "/t10k-images-idx3-ubyte.gz", gz_dir + "/t10k-labels-idx1-ubyte.gz", 10);
  CHECK(gz.images.count == 10000);
  CHECK(gz.images.rows == 28);
  CHECK(gz.images.cols == 28);
  if (dir.empty() || !std::filesystem::exists(dir + "/fashion/t10k-images-idx3-ubyte")) {
    WARN("raw FashionMNIST not found: skipping the gzip-versus-raw comparison");
    return;
  }
  const cvae::LabelledImages raw = cvae::read_idx_pair(
      dir + "/fashion/t10k-images-idx3-ubyte", dir + "/fashion/t10k-labels-idx1-ubyte", 10);
  CHECK(gz.images.pixels == raw.images.pixels);
  CHECK(gz.labels.labels == raw.labels.labels);
}

// The IDX reader. One IdxSource hands out a file's bytes in order — straight from the file, or
// inflated from a gzip stream — and the readers check the header, the payload size and the values.
#include "engine/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>

#include "engine/error.h"

namespace cvae {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // IDX, unsigned byte, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // IDX, unsigned byte, 1 dimension
constexpr size_t kImagesHeaderBytes = 16;      // magic, count, rows, cols
constexpr size_t kLabelsHeaderBytes = 8;       // magic, count
constexpr size_t kCompressedChunk = size_t{256} << 10;
// A gzip payload is first read into at most this much memory; only once the stream has actually
// delivered that many bytes is the full size the header promises allocated. So a tiny file whose
// header claims gigabytes costs at most this much before it fails as truncated.
constexpr size_t kFirstPayloadChunk = size_t{64} << 20;

std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08X", value);
  return text;
}

uint32_t big_endian_u32(const uint8_t* bytes) {
  return uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 | uint32_t{bytes[2]} << 8 |
         uint32_t{bytes[3]};
}

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

// An open IDX file, raw or gzip-compressed, read front to back.
class IdxSource {
 public:
  explicit IdxSource(const std::string& path) : path_(path) {
    file_.reset(std::fopen(path.c_str(), "rb"));
    if (!file_) fail(std::string("cannot open: ") + std::strerror(errno));
    uint8_t magic[2] = {0, 0};
    const size_t got = std::fread(magic, 1, 2, file_.get());
    if (got < 2 && std::ferror(file_.get())) fail(std::string("read error: ") + std::strerror(errno));
    gzip_ = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    if (!gzip_) {
      // A raw file's size is known up front, so a wrong payload size fails before any allocation.
      if (fseeko(file_.get(), 0, SEEK_END) != 0 || (raw_size_ = ftello(file_.get())) < 0 ||
          fseeko(file_.get(), 0, SEEK_SET) != 0)
        fail(std::string("cannot determine the file size: ") + std::strerror(errno));
      return;
    }
    input_.resize(kCompressedChunk);
    std::memcpy(input_.data(), magic, 2);
    zs_.next_in = input_.data();
    zs_.avail_in = 2;
    // 15 + 16: a 32 KiB window and a gzip wrapper (not zlib, not raw deflate); inflate checks the CRC.
    if (inflateInit2(&zs_, 15 + 16) != Z_OK) fail("cannot initialise zlib inflate");
    inflating_ = true;
  }
  ~IdxSource() {
    if (inflating_) inflateEnd(&zs_);
  }
  IdxSource(const IdxSource&) = delete;
  IdxSource& operator=(const IdxSource&) = delete;

  const std::string& path() const { return path_; }
  bool gzip() const { return gzip_; }
  int64_t raw_size() const { return raw_size_; }  // bytes in a raw file; −1 for gzip

  [[noreturn]] void fail(const std::string& problem) const { cvae::fail(path_ + ": " + problem); }

  // Copies up to n bytes into dst; returns fewer only at the end of the data.
  size_t read(uint8_t* dst, size_t n) { return gzip_ ? read_gzip(dst, n) : read_raw(dst, n); }

 private:
  size_t read_raw(uint8_t* dst, size_t n) {
    size_t done = 0;
    while (done < n) {
      const size_t got = std::fread(dst + done, 1, n - done, file_.get());
      done += got;
      if (got == 0) {
        if (std::ferror(file_.get())) fail(std::string("read error: ") + std::strerror(errno));
        break;
      }
    }
    return done;
  }

  void refill() {  // only when zs_.avail_in == 0
    if (input_eof_) return;
    const size_t got = std::fread(input_.data(), 1, input_.size(), file_.get());
    if (got < input_.size()) {
      if (std::ferror(file_.get())) fail(std::string("read error: ") + std::strerror(errno));
      input_eof_ = true;
    }
    zs_.next_in = input_.data();
    zs_.avail_in = static_cast<uInt>(got);
  }

  // Inflates at most n bytes: output never goes anywhere but dst, so the caller's buffer — sized
  // from the header — bounds what a gzip bomb can make us hold.
  size_t read_gzip(uint8_t* dst, size_t n) {
    size_t done = 0;
    while (done < n) {
      if (member_ended_) {
        if (zs_.avail_in == 0) refill();
        if (zs_.avail_in == 0) break;  // the file ends right after a complete gzip member
        // gzip allows members to be concatenated (RFC 1952 §2.2); anything else is garbage.
        if (zs_.next_in[0] != 0x1f) fail("trailing bytes after the end of the gzip stream");
        inflateReset(&zs_);
        member_ended_ = false;
      }
      if (zs_.avail_in == 0) refill();
      const size_t want = std::min<size_t>(n - done, UINT_MAX);
      zs_.next_out = dst + done;
      zs_.avail_out = static_cast<uInt>(want);
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      done += want - zs_.avail_out;
      switch (rc) {
        case Z_OK:
          break;
        case Z_STREAM_END:
          member_ended_ = true;
          break;
        case Z_BUF_ERROR:  // no progress possible: inflate needs input the file does not have
          if (zs_.avail_in == 0) fail("truncated gzip stream: the file ends inside the compressed data");
          fail("gzip inflate made no progress");
        case Z_DATA_ERROR:
          fail(std::string("corrupt gzip stream: ") + (zs_.msg ? zs_.msg : "invalid data"));
        case Z_NEED_DICT:
          fail("corrupt gzip stream: asks for a preset dictionary");
        case Z_MEM_ERROR:
          fail("out of memory while inflating the gzip stream");
        default:
          fail("gzip inflate failed with zlib code " + std::to_string(rc));
      }
    }
    return done;
  }

  std::string path_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  bool gzip_ = false;
  int64_t raw_size_ = -1;
  z_stream zs_{};
  bool inflating_ = false;
  bool member_ended_ = false;
  bool input_eof_ = false;
  std::vector<uint8_t> input_;
};

// Reads `n` header bytes (after the magic); `kind` names the format for the message.
void read_header(IdxSource& src, uint8_t* dst, size_t n, size_t already, const char* kind) {
  const size_t got = src.read(dst, n);
  if (got < n)
    src.fail(std::string(src.gzip() ? "gzip stream inflates to only " : "file too short: ") +
             std::to_string(already + got) + " bytes, less than the " +
             std::to_string(already + n) + "-byte " + kind + " header");
}

void read_magic(IdxSource& src, uint32_t expected, const char* kind) {
  uint8_t bytes[4];
  read_header(src, bytes, 4, 0, kind);
  const uint32_t magic = big_endian_u32(bytes);
  if (magic != expected)
    src.fail("wrong magic " + hex32(magic) + ", expected " + hex32(expected) + " (" + kind + ")");
}

// Reads exactly `promised` payload bytes after a `header_bytes` header and checks that nothing
// follows them. `what` describes the payload for messages, e.g. "pixels (1 x 28 x 28)".
std::vector<uint8_t> read_payload(IdxSource& src, uint64_t promised, size_t header_bytes,
                                  const std::string& what) {
  const std::string promise =
      "header promises " + std::to_string(promised) + " bytes of " + what;
  std::vector<uint8_t> payload;
  if (!src.gzip()) {
    const uint64_t present = static_cast<uint64_t>(src.raw_size()) - header_bytes;
    if (present < promised)
      src.fail("truncated: " + promise + ", the file holds " + std::to_string(present) +
               " after the " + std::to_string(header_bytes) + "-byte header");
    if (present > promised)
      src.fail("trailing bytes: " + promise + ", the file holds " + std::to_string(present) +
               " after the " + std::to_string(header_bytes) + "-byte header");
    payload.resize(promised);
    const size_t got = src.read(payload.data(), payload.size());
    if (got != promised)
      src.fail("truncated while reading: " + promise + ", read " + std::to_string(got));
    return payload;
  }
  uint64_t filled = 0;
  while (filled < promised) {
    const uint64_t target = filled == 0 ? std::min<uint64_t>(promised, kFirstPayloadChunk) : promised;
    payload.reserve(target);  // exactly the target, so the buffer never outgrows the promise
    payload.resize(target);
    const size_t want = static_cast<size_t>(target - filled);
    const size_t got = src.read(payload.data() + filled, want);
    filled += got;
    if (got < want)
      src.fail("truncated: " + promise + ", the gzip stream holds only " + std::to_string(filled) +
               " after the " + std::to_string(header_bytes) + "-byte header");
  }
  // One more byte out of the stream means the payload is longer than promised: stop here, without
  // inflating the rest (a gzip bomb fails after header + payload + 1 bytes of output).
  uint8_t extra[16];
  if (src.read(extra, sizeof extra) > 0)
    src.fail("trailing bytes: the gzip stream inflates to more than the " +
             std::to_string(promised) + " bytes of " + what + " its header promises");
  return payload;
}

}  // namespace

IdxImages read_idx_images(const std::string& path) {
  IdxSource src(path);
  read_magic(src, kImagesMagic, "IDX3 images");
  uint8_t dims[12];
  read_header(src, dims, sizeof dims, 4, "IDX3 images");
  const uint32_t count = big_endian_u32(dims), rows = big_endian_u32(dims + 4),
                 cols = big_endian_u32(dims + 8);
  const std::string shape =
      std::to_string(count) + " x " + std::to_string(rows) + " x " + std::to_string(cols);
  if (count < 1) src.fail("bad dimensions " + shape + ": count must be at least 1");
  if (rows < 1 || rows > kIdxMaxSide)
    src.fail("bad dimensions " + shape + ": rows must be in 1.." + std::to_string(kIdxMaxSide));
  if (cols < 1 || cols > kIdxMaxSide)
    src.fail("bad dimensions " + shape + ": cols must be in 1.." + std::to_string(kIdxMaxSide));
  // The bounds above keep this under 2^56, but the product is checked anyway, so relaxing a
  // bound can never turn into a silent wrap-around.
  uint64_t pixels_per_image = 0, total = 0;
  if (__builtin_mul_overflow(uint64_t{rows}, uint64_t{cols}, &pixels_per_image) ||
      __builtin_mul_overflow(uint64_t{count}, pixels_per_image, &total))
    src.fail("bad dimensions " + shape + ": payload size overflows 64 bits");
  if (total > kIdxMaxImageBytes)
    src.fail("bad dimensions " + shape + ": " + std::to_string(total) +
             " bytes of pixels exceed the 4 GiB cap");
  IdxImages images;
  images.pixels = read_payload(src, total, kImagesHeaderBytes, "pixels (" + shape + ")");
  images.count = count;
  images.rows = static_cast<int>(rows);
  images.cols = static_cast<int>(cols);
  return images;
}

IdxLabels read_idx_labels(const std::string& path, int classes) {
  if (classes < 1) fail(path + ": classes must be at least 1, got " + std::to_string(classes));
  IdxSource src(path);
  read_magic(src, kLabelsMagic, "IDX1 labels");
  uint8_t dims[4];
  read_header(src, dims, sizeof dims, 4, "IDX1 labels");
  const uint32_t count = big_endian_u32(dims);
  if (count < 1) src.fail("bad dimensions: label count 0, must be at least 1");
  const std::vector<uint8_t> bytes =
      read_payload(src, count, kLabelsHeaderBytes, "labels (" + std::to_string(count) + ")");
  IdxLabels labels;
  labels.labels.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    if (bytes[i] >= classes)
      src.fail("label " + std::to_string(bytes[i]) + " at index " + std::to_string(i) +
               " out of range 0.." + std::to_string(classes - 1));
    labels.labels[i] = bytes[i];
  }
  labels.count = count;
  return labels;
}

LabelledImages read_idx_pair(const std::string& images_path, const std::string& labels_path,
                             int classes) {
  LabelledImages pair;
  pair.images = read_idx_images(images_path);
  pair.labels = read_idx_labels(labels_path, classes);
  if (pair.images.count != pair.labels.count)
    fail("count mismatch: " + images_path + " has " + std::to_string(pair.images.count) +
         " images, " + labels_path + " has " + std::to_string(pair.labels.count) + " labels");
  return pair;
}

}  // namespace cvae

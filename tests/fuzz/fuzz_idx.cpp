// libFuzzer target: the IDX reader on arbitrary bytes (raw or gzip), as images and as labels.
// Any outcome but a value or a cvae::Error (a crash, a hang, a huge allocation) is a bug.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "engine/data/idx.h"
#include "engine/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The reader takes a path: the bytes go into an in-memory file named through /proc.
  static int fd = memfd_create("fuzz-idx", 0);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) return 0;
  try {
    cvae::read_idx_images(path);
  } catch (const cvae::Error&) {
  }
  try {
    cvae::read_idx_labels(path, 10);
  } catch (const cvae::Error&) {
  }
  return 0;
}

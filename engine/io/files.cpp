#include "engine/io/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "engine/error.h"

namespace cvae {

namespace {

void make_dirs(const std::string& path) {
  std::string partial;
  std::stringstream parts(path);
  std::string part;
  if (!path.empty() && path[0] == '/') partial = "/";
  while (std::getline(parts, part, '/')) {
    if (part.empty()) continue;
    partial += part;
    if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST)
      fail(partial + ": cannot create folder (" + std::strerror(errno) + ")");
    partial += "/";
  }
}

}  // namespace

void write_file_atomic(const std::string& path, const std::string& bytes) {
  std::string temporary = path + ".part";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) fail(path + ": cannot write (" + std::strerror(errno) + ")");
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      int error = errno;
      ::close(fd);
      ::unlink(temporary.c_str());
      fail(path + ": write failed (" + std::strerror(error) + ")");
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(temporary.c_str());
    fail(path + ": could not flush to disk");
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    int error = errno;
    ::unlink(temporary.c_str());
    fail(path + ": rename failed (" + std::strerror(error) + ")");
  }
  int dir = ::open(parent_folder(path).c_str(), O_RDONLY | O_DIRECTORY);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

void append_line(const std::string& path, const std::string& line) {
  std::FILE* file = std::fopen(path.c_str(), "a");
  if (!file) fail(path + ": cannot append (" + std::strerror(errno) + ")");
  std::fputs(line.c_str(), file);
  std::fputc('\n', file);
  std::fclose(file);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string make_run_folder(const std::string& out, const std::string& name) {
  for (char c : name)
    if (c == '/' || c == '\0') fail("name: '" + name + "' must not contain '/'");
  make_dirs(out);
  if (::access(out.c_str(), W_OK) != 0) fail(out + ": folder is not writable");
  std::string base = out + "/" + name + "-" + local_time_text("%Y%m%d-%H%M%S");
  for (int attempt = 0; attempt < 1000; ++attempt) {
    std::string path = attempt == 0 ? base : base + "-" + std::to_string(attempt + 1);
    if (::mkdir(path.c_str(), 0755) == 0) return path;  // mkdir is atomic: never reuses a folder
    if (errno != EEXIST) fail(path + ": cannot create run folder (" + std::strerror(errno) + ")");
  }
  fail(base + ": too many run folders with this name and time");
}

void make_folder(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
    fail(path + ": cannot create folder (" + std::strerror(errno) + ")");
}

bool path_exists(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

bool is_file(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

bool is_folder(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

std::string strip_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

std::string parent_folder(const std::string& path) {
  const std::string p = strip_slashes(path);
  const size_t slash = p.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}

std::string base_name(const std::string& path) {
  const std::string p = strip_slashes(path);
  const size_t slash = p.find_last_of('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::string local_time_text(const char* format) {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  ::localtime_r(&now, &local);
  char text[64];
  std::strftime(text, sizeof text, format, &local);
  return text;
}

}  // namespace cvae

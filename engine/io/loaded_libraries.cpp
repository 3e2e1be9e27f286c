#include "engine/io/loaded_libraries.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "engine/io/files.h"

namespace cvae {

std::vector<std::string> loaded_libraries(const std::vector<std::string>& name_prefixes) {
  std::vector<std::string> found;
  std::ifstream maps("/proc/self/maps");
  // Each line: address perms offset dev inode [path]; the path is the sixth field, if any.
  for (std::string line; std::getline(maps, line);) {
    std::istringstream fields(line);
    std::string address, perms, offset, dev, inode, path;
    if (!(fields >> address >> perms >> offset >> dev >> inode >> path) || path.empty() ||
        path[0] != '/')
      continue;
    const std::string name = base_name(path);
    for (const std::string& prefix : name_prefixes)
      if (name.compare(0, prefix.size(), prefix) == 0) {
        found.push_back(path);
        break;
      }
  }
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  return found;
}

std::vector<std::string> loaded_compute_libraries() {
  return loaded_libraries({"libcudart", "libcuda.so", "libcublas", "libcudnn", "libnvrtc",
                           "libdnnl", "libgomp"});
}

}  // namespace cvae

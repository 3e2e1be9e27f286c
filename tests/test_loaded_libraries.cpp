#include <catch2/catch.hpp>

#include <algorithm>

#include "engine/io/files.h"
#include "engine/io/loaded_libraries.h"

using namespace cvae;

TEST_CASE("loaded_libraries names the files this process has mapped, by name prefix", "[io]") {
  // The test binary links oneDNN (the CPU GEMM): it is mapped, from an absolute path that exists.
  std::vector<std::string> dnnl = loaded_libraries({"libdnnl"});
  REQUIRE(dnnl.size() >= 1);
  for (const std::string& path : dnnl) {
    INFO(path);
    REQUIRE(path[0] == '/');
    REQUIRE(path.find("libdnnl") != std::string::npos);
    REQUIRE(path_exists(path));
  }
  REQUIRE(loaded_libraries({"libno-such-library"}).empty());
  // each file once, though it is mapped several times (text, data, read-only segments)
  std::vector<std::string> libc = loaded_libraries({"libc.so", "libc-"});
  REQUIRE(libc.size() == 1);
  std::vector<std::string> compute = loaded_compute_libraries();
  REQUIRE(std::find(compute.begin(), compute.end(), dnnl.front()) != compute.end());
}

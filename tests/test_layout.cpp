// The tree and the README agree: every source folder is in the README's Layout section and every
// folder it names exists; and includes run one way (the engine never includes the report, the
// backend nothing above it, nn and prior nothing of train or eval).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

const fs::path kRoot = CLUSTERVAE_SOURCE_DIR;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The folders named at the start of a line of the README's Layout block ("engine/backend/").
std::set<std::string> layout_folders() {
  const std::string readme = read_text(kRoot / "README.md");
  const size_t section = readme.find("## Layout\n");
  REQUIRE(section != std::string::npos);
  const size_t open = readme.find("```\n", section), close = readme.find("```\n", open + 4);
  REQUIRE(close != std::string::npos);
  std::istringstream block(readme.substr(open + 4, close - open - 4));
  std::set<std::string> folders;
  for (std::string line; std::getline(block, line);) {
    std::smatch m;
    if (std::regex_search(line, m, std::regex("^([a-z_]+(/[a-z_]+)*)/ ")) ) folders.insert(m[1]);
  }
  return folders;
}

bool holds_source(const fs::path& dir) {
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string ext = entry.path().extension().string();
    if (entry.is_regular_file() && (ext == ".cpp" || ext == ".h" || ext == ".cu" || ext == ".cuh")) return true;
  }
  return false;
}

std::string path_in_repo(const fs::path& path) { return fs::relative(path, kRoot).generic_string(); }

}  // namespace

TEST_CASE("the README's Layout names every source folder, and only folders that exist", "[layout]") {
  const std::set<std::string> named = layout_folders();
  for (const std::string& folder : named) {
    INFO(folder);
    REQUIRE(fs::is_directory(kRoot / folder));
  }
  for (const char* top : {"engine", "report", "kernels", "apps", "tests", "bench", "configs", "scripts", "docs"})
    REQUIRE(named.count(top) == 1);
  for (const char* top : {"engine", "report"})
    for (const auto& entry : fs::recursive_directory_iterator(kRoot / top))
      if (entry.is_directory() && holds_source(entry.path())) {
        INFO(path_in_repo(entry.path()));
        REQUIRE(named.count(path_in_repo(entry.path())) == 1);
      }
}

TEST_CASE("includes run one way: report above the engine, the backend at the bottom", "[layout]") {
  // folder → the include prefixes it must not use
  const std::vector<std::pair<std::string, std::vector<std::string>>> rules = {
      {"engine", {"report/"}},
      {"engine/backend", {"engine/nn/", "engine/prior/", "engine/train/", "engine/eval/"}},
      {"engine/nn", {"engine/train/", "engine/eval/"}},
      {"engine/prior", {"engine/train/", "engine/eval/"}},
  };
  const std::regex include("#include \"([^\"]+)\"");
  int files = 0;
  for (const auto& [folder, forbidden] : rules)
    for (const auto& entry : fs::recursive_directory_iterator(kRoot / folder)) {
      if (!entry.is_regular_file()) continue;
      const std::string text = read_text(entry.path());
      ++files;
      for (auto it = std::sregex_iterator(text.begin(), text.end(), include); it != std::sregex_iterator(); ++it)
        for (const std::string& prefix : forbidden) {
          INFO(path_in_repo(entry.path()) << " includes " << (*it)[1]);
          REQUIRE((*it)[1].str().rfind(prefix, 0) != 0);
        }
    }
  REQUIRE(files > 40);
}

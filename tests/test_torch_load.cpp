// scripts/torch_load.py, the snippet the README gives for loading a checkpoint into PyTorch:
// a run of each network is loaded into the PyTorch module with strict=True and must encode the
// test images to clustervae's own μ (clustervae-latents). Skipped, visibly, without PyTorch.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <string>

#include "engine/io/files.h"
#include "tests/fixtures.h"
#include "tests/test_helpers.h"

namespace {

int shell(const std::string& command) {
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("a checkpoint loads into the PyTorch VAE modules with strict=True and encodes as clustervae does",
          "[apps][torch]") {
  const std::string source = CLUSTERVAE_SOURCE_DIR;
  if (!cvae::test::have_mnist()) {
    WARN(cvae::test::kNoMnist);
    return;
  }
  // The first python3 with torch: the one on PATH, else Debian's (python3-torch installs there).
  std::string python;
  for (const char* candidate : {"python3", "/usr/bin/python3"})
    if (python.empty() && shell(std::string(candidate) + " -c 'import torch, numpy' > /dev/null 2>&1") == 0)
      python = candidate;
  if (python.empty()) {
    WARN("skipped: no PyTorch for python3 here (Debian: python3-torch)");
    return;
  }
  cvae::test::ScratchDir dir;
  for (const char* arch : {"mlp", "conv"})
    for (const char* method : {"lambdahot", "cvae"}) {
      INFO(arch << " " << method);
      const std::string out = dir.path + "/" + arch + "-" + method;
      const std::string log = dir.path + "/log.txt";
      REQUIRE(shell(std::string(CLUSTERVAE_TRAIN_BIN) + " " + source + "/configs/mnist_" + method +
                    (std::string(arch) == "conv" ? "_conv" : "") + ".json data_dir=" + source +
                    "/data out=" + out + " epochs=1 train_limit=300 test_limit=64 evaluate=false device=cpu " +
                    "progress=off > /dev/null 2> " + log) == 0);
      std::string run = cvae::read_file(log);
      run = run.substr(run.find("run folder: ") + 12);
      run = run.substr(0, run.find('\n'));
      REQUIRE(shell(std::string(CLUSTERVAE_LATENTS_BIN) + " " + run + " device=cpu > /dev/null 2>> " + log) == 0);
      const int status = shell(python + " " + source + "/scripts/torch_load.py " + run + " > " + log + " 2>&1");
      INFO(cvae::read_file(log));
      REQUIRE(status == 0);
      REQUIRE_THAT(cvae::read_file(log), Catch::Contains("64 images, largest |mu difference|"));
    }
}

// clustervae-train as a user meets it: bad input is one line on stderr, exit code 2 and no run
// folder; a diverging run stops with exit code 3 and says where.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <sys/wait.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/io/files.h"
#include "tests/fixtures.h"
#include "tests/test_helpers.h"

using namespace cvae;

namespace {

struct Outcome {
  int code = -1;
  std::string err;
};

Outcome run_train(const std::string& args, const std::string& scratch) {
  std::string err_file = scratch + "/stderr.txt";
  std::string command = std::string(CLUSTERVAE_TRAIN_BIN) + " " + args + " > /dev/null 2> " + err_file;
  int status = std::system(command.c_str());
  Outcome o;
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  o.err = read_file(err_file);
  return o;
}

int entries(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return -1;
  int n = 0;
  while (dirent* e = ::readdir(d)) n += std::string(e->d_name) != "." && std::string(e->d_name) != "..";
  ::closedir(d);
  return n;
}

const std::string kConfig = std::string(CLUSTERVAE_SOURCE_DIR) + "/configs/mnist_lambdahot.json";

}  // namespace

TEST_CASE("clustervae-train without arguments prints usage and exits 2", "[apps]") {
  test::ScratchDir dir;
  Outcome o = run_train("", dir.path);
  REQUIRE(o.code == 2);
  REQUIRE_THAT(o.err, Catch::Contains("usage: clustervae-train"));
}

TEST_CASE("bad configs and arguments: one line, exit 2, no run folder", "[apps]") {
  test::ScratchDir dir;
  std::string out = dir.path + "/runs";
  std::string bad_json = dir.path + "/bad.json";
  std::ofstream(bad_json) << "{\"epochs\": 10, \"methd\": \"vae\"}";
  struct Case { std::string args, phrase; };
  std::vector<Case> cases = {
      {dir.path + "/nope.json", "nope.json: cannot open config file"},
      {bad_json, "unknown key 'methd'"},
      {kConfig + " out=" + out + " epochs=-1", "epochs = -1 is out of range"},
      {kConfig + " out=" + out + " device=tpu", "'tpu' is not one of auto, cpu, cuda, cuda:N"},
      {kConfig + " out=" + out + " device=cuda:x", "'cuda:x' is not one of auto, cpu, cuda, cuda:N"},
      {kConfig + " out=" + out + " device=cdua", "did you mean 'cuda'?"},
      {kConfig + " out=" + out + " lambda=nan", "lambda = nan is out of range"},
      {kConfig + " out=" + out + " dataset=custom train_images=/nonexistent/x train_labels=/x test_images=/x test_labels=/x",
       "/nonexistent/x: no such file"},
      {kConfig + " out=" + out + " latent_dim=4", "needs latent_dim (4) >= classes (10)"},
      {kConfig + " resume=" + out, "resume= comes first and alone, without a config"},
      {"resume=/nonexistent/run", "resume=/nonexistent/run: no such run folder"},
      {kConfig + " out=" + out + " epoch=2", "unknown key 'epoch'; did you mean 'epochs'?"},
      {kConfig + " out=" + out + " method=lamdahot", "is not one of vae, beta, cvae, lambdahot, kmeans, movable; did you mean 'lambdahot'?"},
      {kConfig + " out=" + out + " lr=20", "lr = 20 is out of range [1e-12, 10]"},
      {kConfig + " out=" + out + " train_images=/nonexistent/mine", "/nonexistent/mine: no such file"},
  };
  for (const Case& c : cases) {
    INFO(c.args);
    Outcome o = run_train(c.args, dir.path);
    REQUIRE(o.code == 2);
    REQUIRE_THAT(o.err, Catch::Contains(c.phrase));
    REQUIRE(std::count(o.err.begin(), o.err.end(), '\n') == 1);
    REQUIRE(entries(out) <= 0);  // the runs folder was never made, or is empty
    // set-up lays only the default data files: a path of the user's own gets no hint to run it
    if (c.args.find("/nonexistent/mine") != std::string::npos)
      REQUIRE_THAT(o.err, !Catch::Contains("setup.sh"));
  }
  if (test::have_mnist()) {
    Outcome o = run_train(kConfig + " data_dir=" + CLUSTERVAE_SOURCE_DIR + "/data out=" + out + " train_limit=70000", dir.path);
    REQUIRE(o.code == 2);
    REQUIRE_THAT(o.err, Catch::Contains("train_limit = 70000 is more than the 60000 images in"));
    REQUIRE(entries(out) <= 0);
  }
}

TEST_CASE("clustervae-table1 names the methods and data sets it knows, and the closest one", "[apps]") {
  test::ScratchDir dir;
  for (auto [args, phrase] : std::vector<std::pair<std::string, std::string>>{
           {"methods=vae,lamdahot", "'lamdahot' is not one of vae, beta, cvae, lambdahot, kmeans, movable; did you mean 'lambdahot'?"},
           {"datasets=fashon", "'fashon' is not one of mnist, fashion; did you mean 'fashion'?"},
           {"methods=zzz", "'zzz' is not one of vae, beta"}}) {
    INFO(args);
    std::string err_file = dir.path + "/stderr.txt";
    int status = std::system((std::string(CLUSTERVAE_TABLE1_BIN) + " " + args + " out=" + dir.path +
                              "/runs > /dev/null 2> " + err_file).c_str());
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 2);
    std::string err = read_file(err_file);
    REQUIRE_THAT(err, Catch::Contains(phrase));
    REQUIRE(std::count(err.begin(), err.end(), '\n') == 1);
    if (args == "methods=zzz") REQUIRE_THAT(err, !Catch::Contains("did you mean"));
  }
}

TEST_CASE("a corrupt data file: one line naming the file, exit 2, no run folder", "[apps]") {
  test::ScratchDir dir;
  std::string out = dir.path + "/runs";
  std::string images = dir.path + "/imgs.idx";
  std::ofstream(images, std::ios::binary) << std::string("\x00\x00\x08\x03\x00\x00\x00\x02", 8);
  Outcome o = run_train(kConfig + " out=" + out + " dataset=custom train_images=" + images +
                            " train_labels=" + images + " test_images=" + images + " test_labels=" + images,
                        dir.path);
  REQUIRE(o.code == 2);
  REQUIRE_THAT(o.err, Catch::Contains(images));
  REQUIRE(std::count(o.err.begin(), o.err.end(), '\n') == 1);
  REQUIRE(entries(out) <= 0);
}

TEST_CASE("more k-means clusters than training images is refused before anything is written", "[apps]") {
  if (!test::have_mnist()) { WARN(test::kNoMnist); return; }
  test::ScratchDir dir;
  std::string out = dir.path + "/runs";
  Outcome o = run_train(kConfig + " data_dir=" + CLUSTERVAE_SOURCE_DIR + "/data out=" + out +
                            " method=kmeans clusters=50 train_limit=20",
                        dir.path);
  REQUIRE(o.code == 2);
  REQUIRE_THAT(o.err, Catch::Contains("clusters = 50 is more than the 20 training images"));
  REQUIRE(entries(out) <= 0);
}

TEST_CASE("a diverging run stops with exit 3 naming the step and the last checkpoint", "[apps]") {
  if (!test::have_mnist()) { WARN(test::kNoMnist); return; }
  test::ScratchDir dir;
  Outcome o = run_train(kConfig + " data_dir=" + CLUSTERVAE_SOURCE_DIR + "/data out=" + dir.path +
                            "/runs method=vae lr=10 train_limit=2000 test_limit=100 progress=off",
                        dir.path);
  REQUIRE(o.code == 3);
  REQUIRE_THAT(o.err, Catch::Contains("training diverged"));
  REQUIRE_THAT(o.err, Catch::Contains("step"));
  REQUIRE_THAT(o.err, Catch::Contains("checkpoint"));
}

TEST_CASE("an output folder that cannot be made is one line and exit 2", "[apps]") {
  if (!test::have_mnist()) { WARN(test::kNoMnist); return; }
  test::ScratchDir dir;
  Outcome o = run_train(kConfig + " data_dir=" + CLUSTERVAE_SOURCE_DIR + "/data out=/proc/clustervae-cannot-be-here", dir.path);
  REQUIRE(o.code == 2);
  REQUIRE_THAT(o.err, Catch::Contains("/proc/clustervae-cannot-be-here") && Catch::Contains("cannot create folder"));
  REQUIRE(std::count(o.err.begin(), o.err.end(), '\n') == 1);
}

TEST_CASE("run folders are never reused: the same name in the same second gets a new folder", "[apps]") {
  test::ScratchDir dir;
  std::string a = make_run_folder(dir.path, "same"), b = make_run_folder(dir.path, "same");
  REQUIRE(a != b);
  REQUIRE(entries(dir.path) == 2);
  REQUIRE_THAT(test::error_of([&] { make_run_folder(dir.path, "a/b"); }), Catch::Contains("must not contain '/'"));
}

TEST_CASE("clustervae-train's stdout is the metrics JSON alone; the run folder is named on stderr", "[apps]") {
  if (!test::have_mnist()) { WARN(test::kNoMnist); return; }
  test::ScratchDir dir;
  std::string out_file = dir.path + "/stdout.json", err_file = dir.path + "/stderr.txt";
  std::string command = std::string(CLUSTERVAE_TRAIN_BIN) + " " + kConfig + " data_dir=" + CLUSTERVAE_SOURCE_DIR +
                        "/data out=" + dir.path + "/runs epochs=1 train_limit=300 test_limit=100 device=cpu progress=off > " + out_file +
                        " 2> " + err_file;
  int status = std::system(command.c_str());
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  nlohmann::json metrics = nlohmann::json::parse(read_file(out_file));  // throws unless pure JSON
  REQUIRE(metrics.contains("test_bce_sampled"));
  REQUIRE_THAT(read_file(err_file), Catch::Contains("run folder: " + dir.path + "/runs/"));
}

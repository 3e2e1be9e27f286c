// clustervae-sample as a user meets it, on small runs of a synthetic data set: every kind of
// sample has the shape it should, the same seed gives the same images, a decoded μ is the image
// the interpolation starts from, and bad requests are one line and exit 2. Also the .npy reader.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "engine/io/files.h"
#include "engine/io/npy.h"
#include "report/png.h"
#include "tests/test_helpers.h"
#include "tests/test_report_helpers.h"

using namespace cvae;

namespace {

struct Outcome {
  int code = -1;
  std::string err;
};

Outcome sample(const std::string& run, const std::string& args, const std::string& scratch) {
  const std::string err = scratch + "/sample-stderr.txt";
  int status = std::system((std::string(CLUSTERVAE_SAMPLE_BIN) + " " + run + " device=cpu " + args +
                            " > /dev/null 2> " + err).c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(err)};
}

struct Runs {
  test::ScratchDir dir;
  test::SyntheticData data;
  std::string lambdahot, kmeans, cvae;
  Runs() {
    data = test::write_synthetic_data(dir.path);
    lambdahot = test::train_synthetic_run(data, Method::lambdahot, dir.path + "/runs");
    kmeans = test::train_synthetic_run(data, Method::kmeans, dir.path + "/runs");
    cvae = test::train_synthetic_run(data, Method::cvae, dir.path + "/runs");
  }
};

Runs& runs() {
  static Runs r;
  return r;
}

}  // namespace

TEST_CASE("clustervae-sample writes each kind of sample as a PNG grid and an .npy of images", "[sample]") {
  Runs& r = runs();
  const int pixels = 64, classes = 3, centres = 4;
  struct Case { std::string run, args, what; int64_t count; };
  for (const Case& c : std::vector<Case>{{r.lambdahot, "what=class n=5", "class", classes * 5},
                                         {r.cvae, "what=class n=4 class=2", "class", 4},
                                         {r.lambdahot, "what=prior n=7", "prior", 7},
                                         {r.kmeans, "what=centres n=3", "centres", centres * 3},
                                         {r.cvae, "what=interpolate from=0 to=9 steps=6", "interpolate", 6}}) {
    INFO(c.args);
    Outcome o = sample(c.run, c.args, r.dir.path);
    REQUIRE(o.code == 0);
    NpyFloats images = read_npy_f32(c.run + "/samples/" + c.what + ".npy");
    REQUIRE(images.shape == std::vector<int64_t>{c.count, pixels});
    for (float v : images.values) REQUIRE((v >= 0.0f && v <= 1.0f));
    Raster grid = decode_png(read_file(c.run + "/samples/" + c.what + ".png"), c.what + ".png");
    REQUIRE(grid.width > 0);
  }
  // the same seed, the same images; another seed, others
  const std::string path = r.lambdahot + "/samples/prior.npy";
  REQUIRE(sample(r.lambdahot, "what=prior n=7 seed=4", r.dir.path).code == 0);
  const std::string first = read_file(path);
  REQUIRE(sample(r.lambdahot, "what=prior n=7 seed=4", r.dir.path).code == 0);
  REQUIRE(read_file(path) == first);
  REQUIRE(sample(r.lambdahot, "what=prior n=7 seed=5", r.dir.path).code == 0);
  REQUIRE(read_file(path) != first);
}

TEST_CASE("clustervae-sample decodes a given z: μ of a test image decodes to the interpolation's first image",
          "[sample]") {
  Runs& r = runs();
  REQUIRE(sample(r.lambdahot, "what=interpolate from=3 to=4 steps=2 out=" + r.dir.path + "/interp", r.dir.path).code == 0);
  // μ of test image 3, from clustervae-latents' route: encode the split and take row 3
  REQUIRE(std::system((std::string(CLUSTERVAE_LATENTS_BIN) + " " + r.lambdahot + " device=cpu > /dev/null").c_str()) == 0);
  NpyFloats mu = read_npy_f32(r.lambdahot + "/test_mu.npy");
  const int latent = static_cast<int>(mu.shape[1]);
  std::vector<float> z(mu.values.begin() + 3 * latent, mu.values.begin() + 4 * latent);
  write_file_atomic(r.dir.path + "/z.npy", encode_npy_f32(z, {1, latent}));
  REQUIRE(sample(r.lambdahot, "what=decode z=" + r.dir.path + "/z.npy out=" + r.dir.path + "/dec", r.dir.path).code == 0);
  NpyFloats decoded = read_npy_f32(r.dir.path + "/dec/decode.npy");
  NpyFloats path = read_npy_f32(r.dir.path + "/interp/interpolate.npy");
  REQUIRE(decoded.shape == std::vector<int64_t>{1, 64});
  // (μ from a batch of 2 and from the whole split: the GEMM may round differently in the last bits)
  float worst = 0;
  for (size_t i = 0; i < decoded.values.size(); ++i) worst = std::max(worst, std::fabs(decoded.values[i] - path.values[i]));
  REQUIRE(worst <= 1e-5f);
  // and the interpolation's last image is not its first
  float apart = 0;
  for (size_t i = 0; i < 64; ++i) apart = std::max(apart, std::fabs(path.values[i] - path.values[64 + i]));
  REQUIRE(apart > 0.01f);
}

TEST_CASE("clustervae-sample refuses what a run cannot do, and bad files, in one line", "[sample]") {
  Runs& r = runs();
  write_file_atomic(r.dir.path + "/ints.npy", encode_npy_i32({1, 2, 3}, {3}));
  write_file_atomic(r.dir.path + "/wide.npy", encode_npy_f32(std::vector<float>(8, 0.5f), {1, 8}));
  struct Case { std::string run, args, phrase; };
  for (const Case& c : std::vector<Case>{
           {r.lambdahot, "what=centres", "has no k-means centres"},
           {r.kmeans, "what=class", "has no class-conditional sampler"},
           {r.lambdahot, "what=decode", "needs z=FILE.npy"},
           {r.lambdahot, "what=decode z=" + r.dir.path + "/ints.npy", "is not float32"},
           {r.lambdahot, "what=decode z=" + r.dir.path + "/wide.npy", "shape must be [m, 6]"},
           {r.lambdahot, "what=decode z=/nonexistent.npy", "/nonexistent.npy"},
           {r.lambdahot, "what=clas", "did you mean 'class'?"},
           {r.lambdahot, "n=0", "argument n=0: expected an integer in [1, 1000]"},
           {r.lambdahot, "what=interpolate from=0 to=100000", "argument to=100000"},
           {r.dir.path + "/nope", "", "nope"}}) {
    INFO(c.args);
    Outcome o = sample(c.run, c.args, r.dir.path);
    REQUIRE(o.code == 2);
    REQUIRE_THAT(o.err, Catch::Contains(c.phrase));
    REQUIRE(std::count(o.err.begin(), o.err.end(), '\n') == 1);
  }
}

TEST_CASE("the .npy reader takes float32 C-order arrays and names what else it got", "[sample][io]") {
  test::ScratchDir dir;
  const std::vector<float> values = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, 8.0f};
  write_file_atomic(dir.path + "/a.npy", encode_npy_f32(values, {2, 3}));
  NpyFloats a = read_npy_f32(dir.path + "/a.npy");
  REQUIRE(a.shape == std::vector<int64_t>{2, 3});
  REQUIRE(a.values == values);
  std::string bytes = read_file(dir.path + "/a.npy");
  write_file_atomic(dir.path + "/short.npy", bytes.substr(0, bytes.size() - 4));
  REQUIRE_THROWS_WITH(read_npy_f32(dir.path + "/short.npy"), Catch::Contains("20 data bytes, the shape needs 24"));
  write_file_atomic(dir.path + "/junk.npy", "hello world, not numpy");
  REQUIRE_THROWS_WITH(read_npy_f32(dir.path + "/junk.npy"), Catch::Contains("not an .npy file"));
  std::string fortran = bytes;
  fortran.replace(fortran.find("False"), 5, "True ");
  write_file_atomic(dir.path + "/fortran.npy", fortran);
  REQUIRE_THROWS_WITH(read_npy_f32(dir.path + "/fortran.npy"), Catch::Contains("Fortran order"));
}

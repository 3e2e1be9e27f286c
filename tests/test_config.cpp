// Configs: every shipped config loads; bad keys, types and values are one-line errors naming them.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include "engine/backend/backend.h"
#include "engine/backend/cpu/cpu_backend.h"
#include "engine/config.h"
#include "engine/error.h"
#include "engine/prior/prior.h"
#include "tests/test_helpers.h"

using namespace cvae;

namespace {

using test::error_of;

}  // namespace

TEST_CASE("every shipped config loads and validates", "[config]") {
  for (std::string arch : {"mlp", "conv"})
  for (std::string dataset : {"mnist", "fashion"})
    for (Method method : all_methods()) {
      std::string path = std::string(CLUSTERVAE_SOURCE_DIR) + "/configs/" + dataset + "_" + method_name(method) +
                         (arch == "conv" ? "_conv" : "") + ".json";
      INFO(path);
      Config c = load_config_file(path);
      REQUIRE(c.method == method);
      REQUIRE(c.dataset == dataset);
      REQUIRE(c.arch == arch);
      REQUIRE_NOTHROW(validate(c));
      REQUIRE(c.beta == (method == Method::beta ? 5.0 : 1.0));
    }
}

TEST_CASE("key=value overrides are parsed by the key's type", "[config]") {
  Config c;
  apply_override(c, "epochs=3");
  apply_override(c, "lr=0.01");
  apply_override(c, "method=kmeans");
  apply_override(c, "evaluate=false");
  apply_override(c, "seed=18446744073709");
  REQUIRE(c.epochs == 3);
  REQUIRE(c.lr == 0.01);
  REQUIRE(c.method == Method::kmeans);
  REQUIRE_FALSE(c.evaluate);
  REQUIRE(c.seed == 18446744073709ull);
}

TEST_CASE("bad overrides fail with a one-line message naming the key", "[config]") {
  Config c;
  CHECK_THAT(error_of([&] { apply_override(c, "epoch=3"); }), Catch::Contains("unknown key 'epoch'"));
  CHECK_THAT(error_of([&] { apply_override(c, "epochs=three"); }), Catch::Contains("epochs must be an integer"));
  CHECK_THAT(error_of([&] { apply_override(c, "epochs=0"); }), Catch::Contains("epochs = 0 is out of range"));
  CHECK_THAT(error_of([&] { apply_override(c, "lr=nan"); }), Catch::Contains("lr = nan is out of range"));
  CHECK_THAT(error_of([&] { apply_override(c, "lr=-1"); }), Catch::Contains("lr"));
  CHECK_THAT(error_of([&] { apply_override(c, "beta=1e9"); }), Catch::Contains("beta"));
  CHECK_THAT(error_of([&] { apply_override(c, "method=gan"); }), Catch::Contains("'gan' is not one of"));
  CHECK_THAT(error_of([&] { apply_override(c, "batch_size=99999999999999999999"); }), Catch::Contains("batch_size"));
  CHECK_THAT(error_of([&] { apply_override(c, "noequals"); }), Catch::Contains("expected key=value"));
  CHECK_THAT(error_of([&] { apply_override(c, "clusters=-2"); }), Catch::Contains("clusters = -2 is out of range"));
  for (const std::string& message : {error_of([&] { apply_override(c, "epochs=x"); })})
    REQUIRE(message.find('\n') == std::string::npos);
}

TEST_CASE("bad JSON configs fail naming the file and the key", "[config]") {
  test::ScratchDir dir;
  auto write = [&](const std::string& text) {
    std::string path = dir.path + "/c.json";
    std::ofstream(path) << text;
    return path;
  };
  CHECK_THAT(error_of([&] { load_config_file(dir.path + "/missing.json"); }), Catch::Contains("missing.json: cannot open"));
  CHECK_THAT(error_of([&] { load_config_file(write("{\"epochs\": 2,")); }), Catch::Contains("not valid JSON"));
  CHECK_THAT(error_of([&] { load_config_file(write("[1, 2]")); }), Catch::Contains("must be a JSON object"));
  CHECK_THAT(error_of([&] { load_config_file(write("{\"epochs\": \"2\"}")); }), Catch::Contains("epochs must be an integer"));
  CHECK_THAT(error_of([&] { load_config_file(write("{\"epochs\": 2.5}")); }), Catch::Contains("epochs must be an integer"));
  CHECK_THAT(error_of([&] { load_config_file(write("{\"lambda\": -1}")); }), Catch::Contains("lambda = -1"));
  CHECK_THAT(error_of([&] { load_config_file(write("{\"latent\": 20}")); }), Catch::Contains("unknown key 'latent'"));
  CHECK_THAT(error_of([&] { load_config_file(write("{\"hidden\": 1e400}")); }), Catch::Contains("c.json"));
}

TEST_CASE("relations between keys are checked", "[config]") {
  Config c;
  c.method = Method::lambdahot;
  c.latent_dim = 5;
  CHECK_THAT(error_of([&] { validate(c); }), Catch::Contains("latent_dim (5) >= classes (10)"));
  Config custom;
  custom.dataset = "custom";
  CHECK_THAT(error_of([&] { validate(custom); }), Catch::Contains("dataset=custom needs"));
}

TEST_CASE("the resolved config round-trips through JSON", "[config]") {
  Config c;
  apply_override(c, "method=cvae");
  apply_override(c, "lambda=2.5");
  apply_override(c, "train_limit=300");
  Config back;
  apply_json(back, to_json(c), "round trip");
  REQUIRE(to_json(back) == to_json(c));
  REQUIRE(back.method == Method::cvae);
  REQUIRE(back.lambda == 2.5);
}

TEST_CASE("device names a backend and, on CUDA, which device; a missing one is said plainly", "[config]") {
  Config c;
  for (const char* name : {"auto", "cpu", "cuda", "cuda:0", "cuda:3"}) {
    INFO(name);
    apply_override(c, std::string("device=") + name);
    REQUIRE(c.device == name);
  }
  for (const char* bad : {"cuda:", "cuda:-1", "cuda:1x", "gpu", "cuda0"}) {
    INFO(bad);
    REQUIRE_THROWS_WITH(apply_override(c, std::string("device=") + bad), Catch::Contains("is not one of auto, cpu, cuda, cuda:N"));
  }
  if (!cuda_device_available())  // the CUDA build on a machine without a GPU, or a CPU-only build
    REQUIRE_THROWS_WITH(make_backend("cuda:1", 1), Catch::Contains("device=cuda:1: "));
}

TEST_CASE("each method parses from its name, round-trips, has its own title and the prior its traits say", "[config]") {
  CpuBackend backend(1);
  std::set<std::string> titles;
  int rank = 0;
  for (Method m : all_methods()) {
    INFO(method_name(m));
    Config c;
    apply_override(c, "method=" + method_name(m));
    REQUIRE(c.method == m);
    REQUIRE(to_json(c)["method"] == method_name(m));
    REQUIRE(method_rank(m) == rank++);
    REQUIRE(titles.insert(method_title(m)).second);
    Prior prior(backend, c);
    const PriorKind expected = traits(m).prior == PriorMeans::none       ? PriorKind::standard
                               : traits(m).prior == PriorMeans::per_class ? PriorKind::class_mean
                                                                          : PriorKind::nearest_centroid;
    REQUIRE(prior.kind() == expected);
    // a class sampler draws around a class mean or hands the decoder the label
    REQUIRE(traits(m).class_sampler == (traits(m).prior == PriorMeans::per_class || traits(m).conditional));
  }
  Method parsed = Method::vae;
  REQUIRE_FALSE(parse_method("lambda-hot", parsed));
  REQUIRE_THAT(error_of([] { method_from_name("lamdahot", "here"); }),
               Catch::Contains("here: method = 'lamdahot' is not one of vae, beta, cvae, lambdahot, kmeans, movable") &&
                   Catch::Contains("did you mean 'lambdahot'?"));
}

// The Backend checks every op's arguments once, at its public entry, before any backend's code
// runs: a bad call is an Error naming the backend and the op, and the backend never sees it.
#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

#include "engine/backend/cpu/cpu_backend.h"
#include "engine/error.h"

using namespace cvae;

namespace {

// Counts the calls that got past the checks into the CPU backend's implementation.
class CountingCpuBackend final : public CpuBackend {
 public:
  CountingCpuBackend() : CpuBackend(1) {}
  int reached = 0;

 protected:
  void fill_impl(float* data, int64_t count, float value) override {
    ++reached;
    CpuBackend::fill_impl(data, count, value);
  }
  void bce_with_logits_impl(const float* logits, const uint8_t* images, const int32_t* indices, int batch,
                            int pixels, float grad_scale, float* loss, float* dlogits) override {
    ++reached;
    CpuBackend::bce_with_logits_impl(logits, images, indices, batch, pixels, grad_scale, loss, dlogits);
  }
  void linear_bias_act_impl(int rows, int out, int in, const float* x, int ld_x, const float* w,
                            const float* bias, float* y, int ld_y, Activation act) override {
    ++reached;
    CpuBackend::linear_bias_act_impl(rows, out, in, x, ld_x, w, bias, y, ld_y, act);
  }
  void gemm_impl(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                 const float* b, int ldb, float beta, float* c, int ldc) override {
    ++reached;
    CpuBackend::gemm_impl(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
  void conv_forward_impl(const ConvGeometry& g, const float* x, const float* w, float* y, void* scratch,
                         size_t scratch_bytes) override {
    ++reached;
    CpuBackend::conv_forward_impl(g, x, w, y, scratch, scratch_bytes);
  }
  void adam_step_impl(float* params, const float* grads, float* m, float* v, int64_t count,
                      const AdamArgs& args) override {
    ++reached;
    CpuBackend::adam_step_impl(params, grads, m, v, count, args);
  }
};

std::string error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a bad op call is stopped at the Backend's entry, named, before the backend runs it", "[backend]") {
  CountingCpuBackend backend;
  std::vector<float> a(64, 0.5f), b(64, 0.5f), c(64, 0.0f);
  std::vector<uint8_t> images(64, 128);
  std::vector<int32_t> indices(4, 0);
  ConvGeometry bad_conv;  // batch 0, no channels, no image
  AdamArgs step0;
  step0.step = 0;
  struct Case {
    const char* op;
    std::function<void()> call;
  };
  const std::vector<Case> cases = {
      {"fill", [&] { backend.fill(c.data(), -1, 0.0f); }},
      {"bce_with_logits",
       [&] { backend.bce_with_logits(a.data(), images.data(), indices.data(), 2, 0, 1.0f, c.data(), nullptr); }},
      {"linear_bias_act",
       [&] { backend.linear_bias_act(2, 4, 3, a.data(), 2, b.data(), b.data(), c.data(), 4, Activation::relu); }},
      {"linear_bias_act",
       [&] { backend.linear_bias_act(2, 4, 3, a.data(), 3, b.data(), b.data(), c.data(), 3, Activation::relu); }},
      {"gemm", [&] { backend.gemm(false, false, 2, 2, 4, 1, a.data(), 3, b.data(), 2, 0, c.data(), 2); }},
      {"gemm", [&] { backend.gemm(false, false, -1, 2, 2, 1, a.data(), 2, b.data(), 2, 0, c.data(), 2); }},
      {"conv_forward", [&] { backend.conv_forward(bad_conv, a.data(), b.data(), c.data(), nullptr, 0); }},
      {"adam_step", [&] { backend.adam_step(a.data(), b.data(), c.data(), c.data(), 8, step0); }},
  };
  for (const Case& k : cases) {
    INFO(k.op);
    REQUIRE_THAT(error_of(k.call), Catch::StartsWith(std::string("cpu backend: ") + k.op + ": "));
  }
  REQUIRE(backend.reached == 0);

  // the same ops with good arguments reach the backend and compute
  backend.fill(c.data(), 4, 2.0f);
  REQUIRE(c[3] == 2.0f);
  backend.gemm(false, false, 2, 2, 2, 1, a.data(), 2, b.data(), 2, 0, c.data(), 2);
  REQUIRE(c[0] == Approx(0.5f));
  backend.linear_bias_act(2, 2, 2, a.data(), 2, b.data(), b.data(), c.data(), 2, Activation::none);
  REQUIRE(c[0] == Approx(1.0f));
  REQUIRE(backend.reached == 4);  // linear_bias_act's own gemm goes through the entry too
}

TEST_CASE("a read polled without one begun answers false; a size unlike the read's is refused", "[backend]") {
  CpuBackend backend(1);
  float value = 3.5f, out = 0;
  REQUIRE_FALSE(backend.poll_read(&out, sizeof out));
  REQUIRE_THAT(error_of([&] { backend.begin_read(&value, 0); }), Catch::Contains("begin_read"));
  backend.begin_read(&value, sizeof value);
  REQUIRE_THAT(error_of([&] { backend.poll_read(&out, 2 * sizeof out); }), Catch::Contains("poll_read"));
  REQUIRE(backend.poll_read(&out, sizeof out));
  REQUIRE(out == 3.5f);
  REQUIRE_FALSE(backend.poll_read(&out, sizeof out));  // one read, one answer
}

TEST_CASE("the CPU backend claims no capability beyond the common ops", "[backend]") {
  CpuBackend backend(1);
  for (Capability c : {Capability::record_step, Capability::fused_linear, Capability::all_pairs_tsne})
    REQUIRE_FALSE(backend.supports(c));
}

// The trainer's recorded-step schedule, seen through a CPU backend that says it can record: which
// steps run op by op, which one is recorded, how many replays follow — the part of the GPU path
// that is the trainer's own. (The CPU runs a "recorded" step's ops as they are issued, and its
// replays do nothing; the test looks at the schedule, not at the weights.)
#include <catch2/catch.hpp>

#include <vector>

#include "engine/backend/cpu/cpu_backend.h"
#include "engine/config.h"
#include "engine/train/trainer.h"
#include "tests/fixtures.h"
#include "tests/tiny_data.h"

using namespace cvae;

namespace {

class RecordingCpuBackend final : public CpuBackend {
 public:
  RecordingCpuBackend() : CpuBackend(1) {}
  bool begin_capture() override {
    ++captures;
    steps_before_first_capture = captures == 1 ? eager_steps : steps_before_first_capture;
    capturing = true;
    return true;
  }
  void end_capture() override { capturing = false; }
  void replay() override { ++replays; }
  void abort_capture() override { capturing = false; }
  void adam_step_impl(float* params, const float* grads, float* m, float* v, int64_t count,
                      const AdamArgs& args) override {
    (capturing ? recorded_steps : eager_steps) += 1;
    CpuBackend::adam_step_impl(params, grads, m, v, count, args);
  }
  Counters counters() const override {
    Counters c;
    c.graph_replays = replays;
    return c;
  }
  bool capturing = false;
  int captures = 0, steps_before_first_capture = -1, eager_steps = 0, recorded_steps = 0, replays = 0;
};

Config small_config(bool graph) {
  Config c = test::tiny_config(Method::lambdahot);
  c.epochs = 2;
  c.cuda_graph = graph;
  return c;
}

}  // namespace

TEST_CASE("the trainer runs one full batch op by op before it records one, then replays the rest",
          "[model][graph]") {
  RecordingCpuBackend backend;
  Config config = small_config(true);
  test::TinyData data = test::tiny_data(backend, 45, 12, 3, 4);  // 5 full batches of 8 and one of 5
  ModelState state = make_model_state(backend, config, 12);
  train(backend, config, state, data.split, {});
  REQUIRE(backend.captures == 1);
  // The warm-up: every plan and heuristic is made outside the capture.
  REQUIRE(backend.steps_before_first_capture == 1);
  REQUIRE(backend.recorded_steps == 1);
  // epoch 1: warm-up, recorded (+ its replay), 3 replays, the last 5 op by op; epoch 2: 5
  // replays, the last 5 op by op
  REQUIRE(backend.replays == 4 + 5);
  REQUIRE(backend.eager_steps == 1 + 1 + 1);
  REQUIRE(backend.counters().graph_replays == 9);
}

TEST_CASE("with cuda_graph off, or a data set of one batch, nothing is recorded", "[model][graph]") {
  {
    RecordingCpuBackend backend;
    Config config = small_config(false);
    test::TinyData data = test::tiny_data(backend, 45, 12, 3, 4);
    ModelState state = make_model_state(backend, config, 12);
    train(backend, config, state, data.split, {});
    REQUIRE(backend.captures == 0);
    REQUIRE(backend.replays == 0);
    REQUIRE(backend.eager_steps == 2 * 6);
  }
  {
    // one full batch per epoch: epoch 1 is the warm-up, epoch 2 records it
    RecordingCpuBackend backend;
    Config config = small_config(true);
    test::TinyData data = test::tiny_data(backend, 8, 12, 3, 4);
    ModelState state = make_model_state(backend, config, 12);
    train(backend, config, state, data.split, {});
    REQUIRE(backend.captures == 1);
    REQUIRE(backend.steps_before_first_capture == 1);
    REQUIRE(backend.replays == 1);
  }
}

#include "engine/train/trainer.h"

#include <chrono>
#include <cstdio>
#include <cmath>
#include <numeric>
#include <sstream>

#include "engine/error.h"
#include "engine/interrupt.h"
#include "engine/train/refit.h"

namespace cvae {

namespace {
constexpr double kDivergenceFactor = 1000.0;
}  // namespace

std::vector<EpochRecord> train(Backend& backend, const Config& config, ModelState& state,
                               const DeviceSplit& train, const TrainCallbacks& callbacks,
                               int first_epoch) {
  using clock = std::chrono::steady_clock;
  const int capacity = static_cast<int>(std::min<int64_t>(config.batch_size, train.count));
  // Every buffer of the step, made once.
  Workspace ws = make_workspace(backend, state.shape, capacity, true);
  Buffer order = backend.allocate(sizeof(int32_t) * train.count);
  Buffer batch_indices = backend.allocate(sizeof(int32_t) * capacity);
  Buffer step_state = backend.allocate(sizeof(StepState));
  Buffer sums = backend.allocate(2 * sizeof(double));  // Σ bce, Σ kl over the epoch
  const PriorArgs prior = state.prior->args(train.labels.as<int32_t>());
  const float kl_weight = static_cast<float>(config.beta);
  AdamArgs adam;
  adam.lr = static_cast<float>(config.lr);
  // The step reads its varying inputs (batch rows, step number, Adam's constants) from
  // step_state, so the same ops — on the GPU one recorded CUDA Graph — serve every full batch.
  StepState* device_state = step_state.as<StepState>();
  AdamArgs adam_in_memory = adam;
  adam_in_memory.constants_in_memory = &device_state->adam_step_size;
  const RngPosition noise{config.seed, RngStream::train_noise, 0, &device_state->step};
  const BatchInput input_template{train.images.as<uint8_t>(), train.labels.as<int32_t>(),
                                  batch_indices.as<int32_t>(), 0};
  auto issue_step = [&](int batch) {
    backend.select_batch(order.as<int32_t>(), device_state, batch, batch_indices.as<int32_t>());
    BatchInput input = input_template;
    input.batch = batch;
    model_forward(backend, state.shape, state.layout, state.params.f32(), ws, input, prior, noise,
                  0, true, true);
    model_backward(backend, state.shape, state.layout, state.params.f32(), state.grads.f32(), ws,
                   input, prior, noise, 0, kl_weight);
    backend.adam_step(state.params.f32(), state.grads.f32(), state.adam_m.f32(),
                      state.adam_v.f32(), state.layout.total, adam_in_memory);
    backend.accumulate_sum(ws.bce.f32(), batch, sums.as<double>());
    backend.accumulate_sum(ws.kl.f32(), batch, sums.as<double>() + 1);
    backend.advance_step(device_state, batch, adam);
  };
  // Recording waits for one full batch run op by op (the warm-up): every cuBLAS/cuBLASLt plan,
  // heuristic query and cuDNN first use happens then, outside the capture, where a library may
  // allocate, synchronise or answer differently than it would while being recorded.
  bool recorded = false, record = config.cuda_graph;
  int64_t eager_full_steps = 0;

  std::vector<EpochRecord> records;
  double first_loss = 0;
  for (int epoch = first_epoch; epoch <= config.epochs; ++epoch) {
    auto started = clock::now();
    std::vector<int32_t> host_order = shuffled_order(train.count, config.seed, epoch);
    backend.upload(order.as<void>(), host_order.data(), sizeof(int32_t) * train.count);
    StepState first = step_state_at(static_cast<uint32_t>(state.step + 1), 0, adam);
    backend.upload(step_state.as<void>(), &first, sizeof first);
    double zero[2] = {0, 0};
    backend.upload(sums.as<void>(), zero, sizeof zero);
    auto last_report = clock::now();
    int64_t read_done = 0;  // images done when the read in flight was begun (0: none in flight)

    for (int64_t start = 0; start < train.count; start += capacity) {
      int batch = static_cast<int>(std::min<int64_t>(capacity, train.count - start));
      ++state.step;
      if (batch == capacity && recorded) {
        backend.replay();
      } else if (batch == capacity && record && eager_full_steps > 0) {
        // The second full batch is recorded (where the backend can: the CUDA backend), then run.
        try {
          if (backend.begin_capture()) {
            issue_step(batch);
            backend.end_capture();
            recorded = true;
            backend.replay();
          } else {
            record = false;
            issue_step(batch);
          }
        } catch (const Error& error) {
          backend.abort_capture();
          record = false;
          std::fprintf(stderr, "clustervae: recording the step as a CUDA Graph failed (%s); "
                               "running its ops one by one\n", error.what());
          issue_step(batch);
        }
      } else {
        issue_step(batch);  // the warm-up, an epoch's smaller last batch, or recording is off
        if (batch == capacity) ++eager_full_steps;
      }

      if (stop_requested())
        throw Interrupted("interrupted at epoch " + std::to_string(epoch) + ", step " +
                          std::to_string(state.step));
      bool last = start + capacity >= train.count;
      double since = std::chrono::duration<double>(clock::now() - last_report).count();
      bool check = last || since > 0.25 || first_loss == 0 || state.step % 64 == 0;
      // The only host reads inside an epoch (after the first step, then every 64 steps or quarter
      // second): the progress line and the divergence guard. They never wait for the device:
      // begin_read queues a copy of the sums behind the steps so far, and the result is taken when
      // poll_read finds it arrived (on the CPU at once; on a GPU a few steps later) — so the host
      // keeps the device's queue full.
      if (check && read_done == 0) {
        backend.begin_read(sums.as<void>(), 2 * sizeof(double));
        read_done = start + batch;
      }
      double host_sums[2];
      if (read_done > 0 && backend.poll_read(host_sums, sizeof host_sums)) {
        const int64_t done = read_done;
        read_done = 0;
        double loss = (host_sums[0] + kl_weight * host_sums[1]) / done;
        // Divergence: a non-finite loss, or a loss a thousand times the first one reported
        // (the untrained model's): the run is going nowhere useful, so it stops with a message.
        if (first_loss == 0 && std::isfinite(loss)) first_loss = loss;
        if (!std::isfinite(loss) || std::fabs(loss) > kDivergenceFactor * std::fabs(first_loss)) {
          std::ostringstream message;
          message << "training diverged: loss per image is " << loss << " at epoch " << epoch
                  << ", step " << state.step << " (bce " << host_sums[0] / done << ", kl "
                  << host_sums[1] / done << "; first reported loss " << first_loss
                  << "); try a smaller lr";
          throw NumericError(message.str());
        }
        if (callbacks.progress)
          callbacks.progress(epoch, done, train.count, loss,
                             std::chrono::duration<double>(clock::now() - started).count());
        last_report = clock::now();
      }
    }
    double host_sums[2];
    backend.download(host_sums, sums.as<void>(), sizeof host_sums);
    EpochRecord record;
    record.epoch = epoch;
    record.bce = host_sums[0] / train.count;
    record.kl = host_sums[1] / train.count;
    record.loss = record.bce + kl_weight * record.kl;
    // images/s counts the training steps; the epoch's seconds include the K-Means re-fit.
    record.images_per_second =
        train.count / std::chrono::duration<double>(clock::now() - started).count();
    record.refit = refit_prior(backend, config, state, train);
    record.seconds = std::chrono::duration<double>(clock::now() - started).count();
    records.push_back(record);
    if (callbacks.epoch_done) callbacks.epoch_done(record);
  }
  return records;
}

}  // namespace cvae

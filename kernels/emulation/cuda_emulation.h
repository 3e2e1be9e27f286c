// A small emulation of the CUDA execution model, so that every kernels/*.cu file also compiles as
// plain C++ (with CLUSTERVAE_EMULATION defined) and runs in CI on machines without a GPU
// (docs/DESIGN.md decision 5). It is written to be obviously correct, not fast; tests run small shapes.
//
// The model:
//   - a launch runs its blocks one after another, in blockIdx order (x fastest);
//   - the threads of a block are fibers (ucontext) on one OS thread, started in threadIdx order.
//     A fiber runs until it reaches a synchronisation point or returns, so everything between two
//     synchronisation points runs without interruption (which also makes the atomics atomic);
//   - __syncthreads() is a real barrier: a fiber waits there until every live thread of its block
//     has arrived (threads that have returned no longer take part, as on current GPUs);
//   - warp shuffles and __syncwarp() are barriers over the 32 lanes of a warp: every live lane of
//     the warp must reach the same shuffle; reading a lane that did not take part is an error;
//   - __shared__ is a static local: one copy, used by one block at a time since blocks run in turn.
//     Its contents carry over from the previous block, so a kernel must write before it reads, as
//     on the GPU (where they are undefined);
//   - threadIdx, blockIdx, blockDim and gridDim are globals set by the scheduler before it resumes a
//     fiber; launches are serialised by a mutex.
//   - a launch whose configuration CUDA would refuse records cudaErrorInvalidConfiguration, which
//     cudaGetLastError() returns, so the launchers' error checks run on the same path as on a GPU.
// Kernel launches are synchronous; streams are accepted and ignored.
#pragma once
#ifndef CLUSTERVAE_EMULATION
#error "cuda_emulation.h is the CPU stand-in for CUDA: compile with CLUSTERVAE_EMULATION"
#endif

#include <math.h>
#include <ucontext.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define CVAE_EMULATION_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CVAE_EMULATION_ASAN 1
#endif
#endif
#ifdef CVAE_EMULATION_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

// ---- qualifiers ----
#define __global__
#define __device__
#define __host__
#define __shared__ static
#define __forceinline__ inline
#define __launch_bounds__(...)

// ---- vector types ----
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct uint3 {
  unsigned x, y, z;
};
struct alignas(16) float4 {
  float x, y, z, w;
};
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }

// ---- runtime API subset ----
struct CUstream_st;
using cudaStream_t = CUstream_st*;
enum cudaError_t { cudaSuccess = 0, cudaErrorInvalidConfiguration = 9 };

constexpr int warpSize = 32;

// ---- built-in variables (set by the scheduler before it resumes a fiber) ----
inline uint3 threadIdx{0, 0, 0};
inline uint3 blockIdx{0, 0, 0};
inline dim3 blockDim{1, 1, 1};
inline dim3 gridDim{1, 1, 1};

namespace cvae_emulation {

enum class FiberState { runnable, at_block_barrier, at_warp_barrier, finished };

struct Fiber {
  ucontext_t context;
  std::unique_ptr<char[]> stack;  // not zeroed: pages are committed only when touched
  uint3 index{0, 0, 0};
  FiberState state = FiberState::runnable;
};

// One exchange slot per lane: the value a lane offers to a shuffle, and whether it offered one.
struct Lane {
  unsigned char value[8];
  bool offered = false;
};

struct Emulator {
  static constexpr size_t kStackBytes = 256 * 1024;
  std::mutex launch_mutex;
  ucontext_t scheduler{};
  std::vector<Fiber> fibers;
  std::vector<Lane> lanes;  // [threads of the block]
  Fiber* current = nullptr;
  unsigned current_linear = 0;
  const void* body = nullptr;      // the launch's callable, type-erased
  void (*invoke)(const void*) = nullptr;
  std::exception_ptr failure;      // an exception that escaped a fiber (an emulation error)
  cudaError_t last_error = cudaSuccess;
#ifdef CVAE_EMULATION_ASAN
  const void* scheduler_stack_bottom = nullptr;
  size_t scheduler_stack_size = 0;
#endif
};

inline Emulator& emulator() {
  static Emulator instance;
  return instance;
}

// Switch from the running fiber to the scheduler; returns when the scheduler resumes the fiber.
inline void yield_to_scheduler(bool dying = false) {
  Emulator& emu = emulator();
  Fiber* self = emu.current;
#ifdef CVAE_EMULATION_ASAN
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(dying ? nullptr : &fake_stack, emu.scheduler_stack_bottom,
                                 emu.scheduler_stack_size);
#endif
  swapcontext(&self->context, &emu.scheduler);
#ifdef CVAE_EMULATION_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
  (void)dying;
}

inline void fiber_entry() {
  Emulator& emu = emulator();
#ifdef CVAE_EMULATION_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &emu.scheduler_stack_bottom, &emu.scheduler_stack_size);
#endif
  try {
    emu.invoke(emu.body);
  } catch (...) {
    if (!emu.failure) emu.failure = std::current_exception();
  }
  emu.current->state = FiberState::finished;
  yield_to_scheduler(true);  // never resumed
}

[[noreturn]] inline void emulation_error(const std::string& what) {
  throw std::logic_error("CUDA emulation: " + what);
}

// Resume one fiber until it next waits or returns.
inline void resume(Emulator& emu, unsigned linear) {
  Fiber& fiber = emu.fibers[linear];
  emu.current = &fiber;
  emu.current_linear = linear;
  threadIdx = fiber.index;
#ifdef CVAE_EMULATION_ASAN
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, fiber.stack.get(), Emulator::kStackBytes);
#endif
  swapcontext(&emu.scheduler, &fiber.context);
#ifdef CVAE_EMULATION_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
  emu.current = nullptr;
}

// Out of line: getcontext "returns twice" as far as the compiler knows, which must not touch the
// scheduler loop's variables.
__attribute__((noinline)) inline void prepare_fiber(Fiber& fiber, unsigned linear) {
  fiber.index = uint3{linear % blockDim.x, (linear / blockDim.x) % blockDim.y,
                      linear / (blockDim.x * blockDim.y)};
  fiber.state = FiberState::runnable;
  getcontext(&fiber.context);
  fiber.context.uc_stack.ss_sp = fiber.stack.get();
  fiber.context.uc_stack.ss_size = Emulator::kStackBytes;
  fiber.context.uc_link = nullptr;
  makecontext(&fiber.context, fiber_entry, 0);
}

// Runs one block to completion: rounds of "resume every runnable fiber", then release whichever
// barrier every live participant has reached. Nothing to release with fibers still live is a
// deadlock (threads of one block or warp waiting at different barriers), reported as an error.
inline void run_block(Emulator& emu, unsigned threads) {
  for (unsigned t = 0; t < threads; ++t) {
    prepare_fiber(emu.fibers[t], t);
    emu.lanes[t] = Lane{};
  }
  for (;;) {
    for (unsigned t = 0; t < threads; ++t)
      if (emu.fibers[t].state == FiberState::runnable) resume(emu, t);
    if (emu.failure) std::rethrow_exception(emu.failure);

    bool live = false, released = false;
    for (unsigned warp_start = 0; warp_start < threads; warp_start += warpSize) {
      unsigned warp_end = warp_start + warpSize < threads ? warp_start + warpSize : threads;
      bool any = false, all = true;
      for (unsigned t = warp_start; t < warp_end; ++t) {
        FiberState s = emu.fibers[t].state;
        if (s == FiberState::finished) continue;
        any = true;
        all = all && s == FiberState::at_warp_barrier;
      }
      if (any && all) {
        for (unsigned t = warp_start; t < warp_end; ++t)
          if (emu.fibers[t].state == FiberState::at_warp_barrier)
            emu.fibers[t].state = FiberState::runnable;
        released = true;
      }
    }
    bool all_at_block_barrier = true;
    for (unsigned t = 0; t < threads; ++t) {
      FiberState s = emu.fibers[t].state;
      if (s == FiberState::finished) continue;
      live = true;
      all_at_block_barrier = all_at_block_barrier && s == FiberState::at_block_barrier;
    }
    if (!live) return;
    if (released) continue;
    if (all_at_block_barrier) {
      for (unsigned t = 0; t < threads; ++t)
        if (emu.fibers[t].state == FiberState::at_block_barrier)
          emu.fibers[t].state = FiberState::runnable;
      continue;
    }
    emulation_error("deadlock: the threads of a block (or warp) wait at different barriers");
  }
}

inline bool valid_configuration(dim3 grid, dim3 block, size_t shared_bytes) {
  uint64_t threads = uint64_t(block.x) * block.y * block.z;
  return threads >= 1 && threads <= 1024 && block.z <= 64 && grid.x >= 1 &&
         grid.x <= 2147483647u && grid.y >= 1 && grid.y <= 65535 && grid.z >= 1 &&
         grid.z <= 65535 && shared_bytes <= 48 * 1024;
}

template <class Body>
void run_grid(dim3 grid, dim3 block, size_t shared_bytes, const Body& body) {
  Emulator& emu = emulator();
  std::lock_guard<std::mutex> lock(emu.launch_mutex);
  if (!valid_configuration(grid, block, shared_bytes)) {
    emu.last_error = cudaErrorInvalidConfiguration;
    return;
  }
  if (shared_bytes != 0) emulation_error("dynamic shared memory is not emulated");
  const unsigned threads = block.x * block.y * block.z;
  while (emu.fibers.size() < threads) {
    emu.fibers.emplace_back();
    emu.fibers.back().stack.reset(new char[Emulator::kStackBytes]);
  }
  emu.lanes.assign(threads, Lane{});
  emu.body = &body;
  emu.invoke = [](const void* b) { (*static_cast<const Body*>(b))(); };
  emu.failure = nullptr;
  blockDim = block;
  gridDim = grid;
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        blockIdx = uint3{x, y, z};
        run_block(emu, threads);
      }
}

// The object CVAE_LAUNCH(...) yields: called with the kernel's arguments, it converts them to the
// parameter types (as a CUDA launch does), then every thread calls the kernel with its own copy.
template <class... Params>
struct Launch {
  void (*kernel)(Params...);
  dim3 grid, block;
  size_t shared_bytes;

  template <class... Args>
  void operator()(Args&&... args) const {
    static_assert(sizeof...(Args) == sizeof...(Params), "kernel launched with the wrong number of arguments");
    const std::tuple<std::decay_t<Params>...> bound(std::forward<Args>(args)...);
    auto kernel_ = kernel;
    run_grid(grid, block, shared_bytes, [&bound, kernel_] { std::apply(kernel_, bound); });
  }
};

template <class... Params>
Launch<Params...> make_launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes,
                              cudaStream_t) {
  return Launch<Params...>{kernel, grid, block, shared_bytes};
}

// ---- warp-level exchange ----
inline unsigned lane_of_current() { return emulator().current_linear % warpSize; }
inline unsigned warp_start_of_current() { return emulator().current_linear - lane_of_current(); }

inline void wait_at_warp_barrier() {
  Emulator& emu = emulator();
  if (!emu.current) emulation_error("warp intrinsic called outside a kernel");
  emu.current->state = FiberState::at_warp_barrier;
  yield_to_scheduler();
}

// Every live lane of the warp offers `value`; returns the value offered by lane `source` (an index
// within the warp). Two barriers: all offer before any reads, all read before any offers again.
template <class T>
T exchange(T value, unsigned source) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "shuffle of a type wider than 8 bytes");
  Emulator& emu = emulator();
  const unsigned self = emu.current_linear;
  const unsigned from = warp_start_of_current() + source;
  std::memcpy(emu.lanes[self].value, &value, sizeof(T));
  emu.lanes[self].offered = true;
  wait_at_warp_barrier();
  if (from >= emu.lanes.size() || !emu.lanes[from].offered)
    emulation_error("shuffle reads lane " + std::to_string(source) +
                    ", which did not take part (exited or diverged)");
  T result;
  std::memcpy(&result, emu.lanes[from].value, sizeof(T));
  wait_at_warp_barrier();
  emu.lanes[self].offered = false;
  return result;
}

}  // namespace cvae_emulation

// ---- the launch macro (kernels/kernel_support.h defines the same one as <<<...>>> for nvcc) ----
#define CVAE_LAUNCH(kernel, grid, block, shared_bytes, stream) \
  ::cvae_emulation::make_launch(kernel, grid, block, shared_bytes, stream)

// ---- runtime API subset (continued) ----
inline cudaError_t cudaGetLastError() {
  cudaError_t error = cvae_emulation::emulator().last_error;
  cvae_emulation::emulator().last_error = cudaSuccess;
  return error;
}
inline const char* cudaGetErrorString(cudaError_t error) {
  return error == cudaSuccess ? "no error" : "invalid configuration argument";
}

// ---- synchronisation ----
inline void __syncthreads() {
  cvae_emulation::Emulator& emu = cvae_emulation::emulator();
  if (!emu.current) cvae_emulation::emulation_error("__syncthreads called outside a kernel");
  emu.current->state = cvae_emulation::FiberState::at_block_barrier;
  cvae_emulation::yield_to_scheduler();
}
inline void __syncwarp(unsigned = 0xffffffffu) { cvae_emulation::wait_at_warp_barrier(); }

// ---- warp shuffles (the mask is not checked: every live lane must take part) ----
template <class T>
T __shfl_sync(unsigned, T value, int source_lane, int width = warpSize) {
  unsigned lane = cvae_emulation::lane_of_current();
  unsigned source = (lane & ~unsigned(width - 1)) + unsigned(source_lane) % unsigned(width);
  return cvae_emulation::exchange(value, source);
}
template <class T>
T __shfl_down_sync(unsigned, T value, unsigned delta, int width = warpSize) {
  unsigned lane = cvae_emulation::lane_of_current();
  bool inside = (lane % unsigned(width)) + delta < unsigned(width);
  T other = cvae_emulation::exchange(value, inside ? lane + delta : lane);
  return inside ? other : value;
}
template <class T>
T __shfl_xor_sync(unsigned, T value, int lane_mask, int width = warpSize) {
  unsigned lane = cvae_emulation::lane_of_current();
  unsigned source = lane ^ unsigned(lane_mask);
  bool inside = (source / unsigned(width)) == (lane / unsigned(width));
  T other = cvae_emulation::exchange(value, inside ? source : lane);
  return inside ? other : value;
}

// ---- atomics (atomic because a fiber is never interrupted between synchronisation points) ----
template <class T>
T cvae_emulated_atomic_add(T* address, T value) {
  T old = *address;
  *address = old + value;
  return old;
}
inline float atomicAdd(float* a, float v) { return cvae_emulated_atomic_add(a, v); }
inline double atomicAdd(double* a, double v) { return cvae_emulated_atomic_add(a, v); }
inline int atomicAdd(int* a, int v) { return cvae_emulated_atomic_add(a, v); }
inline unsigned atomicAdd(unsigned* a, unsigned v) { return cvae_emulated_atomic_add(a, v); }
inline unsigned long long atomicAdd(unsigned long long* a, unsigned long long v) {
  return cvae_emulated_atomic_add(a, v);
}
inline int atomicMax(int* a, int v) { int old = *a; if (v > old) *a = v; return old; }
inline int atomicMin(int* a, int v) { int old = *a; if (v < old) *a = v; return old; }
inline int atomicCAS(int* a, int compare, int v) { int old = *a; if (old == compare) *a = v; return old; }

// ---- intrinsics mapped to the standard library (the emulation computes in IEEE float) ----
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __sinf(float x) { return std::sin(x); }
inline float __cosf(float x) { return std::cos(x); }
inline float __powf(float x, float y) { return std::pow(x, y); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return std::sqrt(x); }
inline float __fadd_rn(float x, float y) { return x + y; }
inline float __fsub_rn(float x, float y) { return x - y; }
inline float __fmul_rn(float x, float y) { return x * y; }
inline float __fmaf_rn(float x, float y, float z) { return std::fma(x, y, z); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
template <class T>
T __ldg(const T* address) { return *address; }

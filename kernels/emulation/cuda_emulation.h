// A small emulation of the CUDA execution model, so that every kernels/*.cu file also compiles as
// plain C++ (with CLUSTERVAE_EMULATION defined) and runs in CI on machines without a GPU
// (docs/DESIGN.md decision 5). It is written to be obviously correct, not fast; tests run small shapes.
// It is also strict: what a GPU leaves undefined (block order, the order threads run in, stale shared
// memory, shuffles whose mask does not match the lanes that call) is made to differ from the lucky
// case or is refused, so a kernel that only works by luck fails here rather than on a device.
//
// The model:
//   - a launch runs its blocks one after another, in a pseudo-random order drawn for each launch
//     from a seed (CLUSTERVAE_EMULATION_SEED, an unsigned integer; a fixed default, so a run is
//     reproducible), since CUDA promises no order between blocks;
//   - the threads of a block are fibers (ucontext) on one OS thread. A fiber runs until it reaches
//     a synchronisation point or returns, so everything between two synchronisation points runs
//     without interruption (which also makes the atomics atomic). At the start and after every
//     barrier the runnable fibers are resumed in a freshly shuffled order, so a read of another
//     thread's write that no barrier orders sees it sometimes before and sometimes after;
//   - __syncthreads() is a real barrier: a fiber waits there until every thread of its block has
//     arrived at the same call site. A thread that returns while others wait at a barrier, or waits
//     at another __syncthreads, is an error (on a GPU a hang or undefined behaviour);
//   - warp shuffles and __syncwarp(mask) are barriers over the lanes their mask names: each caller
//     must be named in its mask, every lane named must reach the same call with the same mask (a lane
//     of the mask that has exited, waits elsewhere or is no thread of the block is an error), and a
//     shuffle may read only a lane of the mask;
//   - __shared__ variables are static locals placed in one linker section, which is filled with 0xff
//     bytes (NaN as float or double, -1 as an integer) before every block, so a kernel that reads
//     shared memory it has not written in this block sees garbage, as it may on a GPU. GCC drops
//     the section attribute from statics of function templates, so kernels declare no __shared__
//     variable inside a template (ctest checks the emulated library's symbols for one);
//   - threadIdx, blockIdx, blockDim and gridDim are globals set by the scheduler before it resumes a
//     fiber; launches are serialised by a mutex;
//   - kernels/kernel_support.h's grid_for, the grid of every grid-stride loop, is capped at
//     CLUSTERVAE_EMULATION_MAX_BLOCKS blocks when that is set, so the loops take several turns;
//   - a launch whose configuration CUDA would refuse records cudaErrorInvalidConfiguration, which
//     cudaGetLastError() returns, so the launchers' error checks run on the same path as on a GPU.
//     Everything else the emulation finds wrong throws std::logic_error from the launch, with a
//     message "CUDA emulation: kernel K, block (x,y,z), thread (x,y,z): what went wrong".
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
#include <cstdio>
#include <cstdlib>
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
// Every __shared__ variable lands in this one section, whose bounds the linker provides as
// __start_/__stop_ symbols, so the scheduler can poison all of them before each block.
#define __shared__ static __attribute__((section("cvae_emulated_shared"), used))
#define __forceinline__ inline
#define __launch_bounds__(...)

// Weak: a program with no __shared__ variable has no such section and links with both null.
extern "C" char __start_cvae_emulated_shared[] __attribute__((weak));
extern "C" char __stop_cvae_emulated_shared[] __attribute__((weak));

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

// Where a fiber waits: the intrinsic and its call site (from __builtin_FILE/LINE default arguments),
// so that threads waiting at different barriers can be told apart and named in an error.
struct CallSite {
  const char* intrinsic = "";
  const char* file = "";
  unsigned line = 0;
  bool operator==(const CallSite& o) const {
    return line == o.line && std::strcmp(intrinsic, o.intrinsic) == 0 && std::strcmp(file, o.file) == 0;
  }
  bool operator!=(const CallSite& o) const { return !(*this == o); }
};

struct Fiber {
  ucontext_t context;
  std::unique_ptr<char[]> stack;  // not zeroed: pages are committed only when touched
  uint3 index{0, 0, 0};
  FiberState state = FiberState::runnable;
  CallSite waiting_at;          // valid while at a barrier
  unsigned warp_mask = 0;       // valid while at a warp barrier: the lanes that must take part
  unsigned barriers_passed = 0; // __syncthreads released so far, for the error messages
};

// One exchange slot per lane: the value a lane offers to a shuffle, and whether it offered one.
struct Lane {
  unsigned char value[8];
  bool offered = false;
};

// The seed of the block and thread orders and the grid-stride cap, from the environment.
inline uint64_t unsigned_from_environment(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (*end != '\0' || *text == '-')
    throw std::invalid_argument(std::string("CUDA emulation: ") + name + "='" + text +
                                "' is not an unsigned integer");
  return value;
}

constexpr uint64_t kDefaultSeed = 20240229;

struct Emulator {
  static constexpr size_t kStackBytes = 256 * 1024;
  std::mutex launch_mutex;
  ucontext_t scheduler{};
  std::vector<Fiber> fibers;
  std::vector<Lane> lanes;  // [threads of the block]
  std::vector<unsigned> ready;  // of the block being run: the fibers that may be resumed
  Fiber* current = nullptr;
  unsigned current_linear = 0;
  const void* body = nullptr;      // the launch's callable, type-erased
  void (*invoke)(const void*) = nullptr;
  const char* kernel_name = nullptr;  // of the launch under way, for error messages
  bool in_block = false;
  std::exception_ptr failure;      // an exception that escaped a fiber (an emulation error)
  cudaError_t last_error = cudaSuccess;
  uint64_t random_state = unsigned_from_environment("CLUSTERVAE_EMULATION_SEED", kDefaultSeed);
  unsigned max_grid_stride_blocks =  // 0: no cap
      unsigned(unsigned_from_environment("CLUSTERVAE_EMULATION_MAX_BLOCKS", 0));
#ifdef CVAE_EMULATION_ASAN
  const void* scheduler_stack_bottom = nullptr;
  size_t scheduler_stack_size = 0;
#endif
};

inline Emulator& emulator() {
  static Emulator instance;
  return instance;
}

// For tests of the emulation itself: restart the orders from a seed, set or lift (0) the cap.
inline void set_seed(uint64_t seed) { emulator().random_state = seed; }
inline void set_max_grid_stride_blocks(unsigned blocks) { emulator().max_grid_stride_blocks = blocks; }
inline unsigned max_grid_stride_blocks() { return emulator().max_grid_stride_blocks; }

// splitmix64: small, and the same sequence on every platform (std::shuffle's is not specified).
inline uint64_t next_random(Emulator& emu) {
  uint64_t z = (emu.random_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Fisher-Yates with the emulator's generator.
inline void shuffle(Emulator& emu, std::vector<unsigned>& items) {
  for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[next_random(emu) % i]);
}

inline std::string triple(unsigned x, unsigned y, unsigned z) {
  return "(" + std::to_string(x) + "," + std::to_string(y) + "," + std::to_string(z) + ")";
}
inline std::string thread_name(const Fiber& fiber) {
  return "thread " + triple(fiber.index.x, fiber.index.y, fiber.index.z);
}
inline std::string site_name(const CallSite& site) {
  return std::string(site.intrinsic) + " at " + site.file + ":" + std::to_string(site.line);
}
inline std::string hex(unsigned mask) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", mask);
  return text;
}

// Every error names what it can of kernel, block and thread, so a CI log points at the culprit.
[[noreturn]] inline void emulation_error(const std::string& what) {
  const Emulator& emu = emulator();
  std::string where;
  if (emu.kernel_name) where += std::string("kernel ") + emu.kernel_name + ", ";
  if (emu.in_block) where += "block " + triple(blockIdx.x, blockIdx.y, blockIdx.z) + ", ";
  if (emu.current) where += thread_name(*emu.current) + ", ";
  if (!where.empty()) where.replace(where.size() - 2, 2, ": ");
  throw std::logic_error("CUDA emulation: " + where + what);
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
  fiber.waiting_at = CallSite{};
  fiber.warp_mask = 0;
  fiber.barriers_passed = 0;
  getcontext(&fiber.context);
  fiber.context.uc_stack.ss_sp = fiber.stack.get();
  fiber.context.uc_stack.ss_size = Emulator::kStackBytes;
  fiber.context.uc_link = nullptr;
  makecontext(&fiber.context, fiber_entry, 0);
}

inline void poison_shared_memory() {
  if (__start_cvae_emulated_shared != nullptr)
    std::memset(__start_cvae_emulated_shared, 0xff,
                size_t(__stop_cvae_emulated_shared - __start_cvae_emulated_shared));
}

// Why the lanes of `waiter`'s mask cannot all go on from its warp barrier, or "" if they can: every
// lane named must wait at the same call with the same mask.
inline std::string warp_group_blocked(const Emulator& emu, unsigned threads, unsigned waiter_linear) {
  const Fiber& waiter = emu.fibers[waiter_linear];
  const unsigned warp_start = waiter_linear - waiter_linear % warpSize;
  for (unsigned lane = 0; lane < unsigned(warpSize); ++lane) {
    if (!(waiter.warp_mask >> lane & 1u)) continue;
    const std::string named = "lane " + std::to_string(lane) + " of mask " + hex(waiter.warp_mask);
    if (warp_start + lane >= threads)
      return named + " is no thread of the block (blockDim " + triple(blockDim.x, blockDim.y, blockDim.z) + ")";
    const Fiber& other = emu.fibers[warp_start + lane];
    if (other.state == FiberState::finished) return named + " (" + thread_name(other) + ") has exited";
    if (other.state == FiberState::runnable) return named + " (" + thread_name(other) + ") is still running";
    if (other.state == FiberState::at_block_barrier)
      return named + " (" + thread_name(other) + ") waits at " + site_name(other.waiting_at);
    if (other.waiting_at != waiter.waiting_at || other.warp_mask != waiter.warp_mask)
      return named + " (" + thread_name(other) + ") waits at " + site_name(other.waiting_at) + " with mask " +
             hex(other.warp_mask);
  }
  return "";
}

// Runs one block to completion. The scheduler resumes one runnable fiber at a time, picked at random,
// and releases a warp barrier the moment its last lane arrives, so warps run ahead of one another
// and a read that no barrier orders after another thread's write may come before it. When no
// fiber can run, the block barrier must be complete, every thread at one call site; a barrier that
// can never complete (a thread exited or waits elsewhere) is reported as an error instead of hanging.
inline void run_block(Emulator& emu, unsigned threads) {
  poison_shared_memory();
  std::vector<unsigned>& ready = emu.ready;  // the runnable fibers, in no particular order
  ready.clear();
  for (unsigned t = 0; t < threads; ++t) {
    prepare_fiber(emu.fibers[t], t);
    emu.lanes[t] = Lane{};
    ready.push_back(t);
  }
  for (;;) {
    while (!ready.empty()) {
      std::swap(ready[next_random(emu) % ready.size()], ready.back());
      const unsigned t = ready.back();
      ready.pop_back();
      resume(emu, t);
      if (emu.failure) std::rethrow_exception(emu.failure);
      Fiber& fiber = emu.fibers[t];
      if (fiber.state == FiberState::at_warp_barrier && warp_group_blocked(emu, threads, t).empty()) {
        const unsigned warp_start = t - t % warpSize;
        for (unsigned lane = 0; lane < unsigned(warpSize); ++lane)
          if (fiber.warp_mask >> lane & 1u) {
            emu.fibers[warp_start + lane].state = FiberState::runnable;
            ready.push_back(warp_start + lane);
          }
      }
    }

    bool live = false;
    for (unsigned t = 0; t < threads; ++t) live = live || emu.fibers[t].state != FiberState::finished;
    if (!live) return;

    // Nothing can run. A waiting warp is stuck for good; say why the first one is.
    std::string warp_blocked;
    for (unsigned t = 0; t < threads && warp_blocked.empty(); ++t)
      if (emu.fibers[t].state == FiberState::at_warp_barrier)
        warp_blocked = thread_name(emu.fibers[t]) + " waits at " + site_name(emu.fibers[t].waiting_at) + ", but " +
                       warp_group_blocked(emu, threads, t);
    const Fiber* at_barrier = nullptr;
    for (unsigned t = 0; t < threads && !at_barrier; ++t)
      if (emu.fibers[t].state == FiberState::at_block_barrier) at_barrier = &emu.fibers[t];
    if (!at_barrier) emulation_error("deadlock: " + warp_blocked);
    const std::string waits = thread_name(*at_barrier) + " waits at " + site_name(at_barrier->waiting_at) +
                              " (its __syncthreads number " + std::to_string(at_barrier->barriers_passed + 1) +
                              "), but ";
    for (unsigned t = 0; t < threads; ++t) {
      const Fiber& other = emu.fibers[t];
      if (other.state == FiberState::finished)
        emulation_error(waits + thread_name(other) + " has exited (a barrier must be reached by every thread)");
      if (other.state == FiberState::at_warp_barrier)
        emulation_error("deadlock: " + waits + thread_name(other) + " waits at " + site_name(other.waiting_at) +
                        "; " + warp_blocked);
      if (other.waiting_at != at_barrier->waiting_at)
        emulation_error(waits + thread_name(other) + " waits at " + site_name(other.waiting_at) +
                        " (threads of a block must reach the same __syncthreads)");
    }
    for (unsigned t = 0; t < threads; ++t) {
      emu.fibers[t].state = FiberState::runnable;
      ++emu.fibers[t].barriers_passed;
      ready.push_back(t);
    }
  }
}

// The project's own limit, below CUDA's 1024: scripts/kernel_resources.py checks each kernel's
// registers for a block of this many threads, so a launch of more is refused here, in CI.
constexpr unsigned kMaxBlockThreads = 256;

inline bool valid_configuration(dim3 grid, dim3 block, size_t shared_bytes) {
  uint64_t threads = uint64_t(block.x) * block.y * block.z;
  return threads >= 1 && threads <= 1024 && block.z <= 64 && grid.x >= 1 &&
         grid.x <= 2147483647u && grid.y >= 1 && grid.y <= 65535 && grid.z >= 1 &&
         grid.z <= 65535 && shared_bytes <= 48 * 1024;
}

// Leaves the launch's context (kernel name, block) however run_grid ends, so a later error outside a
// launch does not name a stale kernel.
struct LaunchContext {
  Emulator& emu;
  LaunchContext(Emulator& e, const char* name) : emu(e) { emu.kernel_name = name; }
  ~LaunchContext() {
    emu.kernel_name = nullptr;
    emu.in_block = false;
    emu.current = nullptr;
  }
};

template <class Body>
void run_grid(const char* kernel_name, dim3 grid, dim3 block, size_t shared_bytes, const Body& body) {
  Emulator& emu = emulator();
  std::lock_guard<std::mutex> lock(emu.launch_mutex);
  if (!valid_configuration(grid, block, shared_bytes)) {
    emu.last_error = cudaErrorInvalidConfiguration;
    return;
  }
  LaunchContext context(emu, kernel_name);
  if (shared_bytes != 0) emulation_error("dynamic shared memory is not emulated");
  const unsigned threads = block.x * block.y * block.z;
  if (threads > kMaxBlockThreads)
    emulation_error("a block of " + std::to_string(threads) + " threads: kernels/ launch at most " +
                    std::to_string(kMaxBlockThreads) + " (the block size scripts/kernel_resources.py checks registers for)");
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
  // CUDA runs blocks in no promised order; a shuffled one catches kernels that assume one.
  std::vector<unsigned> order(size_t(grid.x) * grid.y * grid.z);
  for (size_t b = 0; b < order.size(); ++b) order[b] = unsigned(b);
  shuffle(emu, order);
  for (unsigned b : order) {
    blockIdx = uint3{b % grid.x, (b / grid.x) % grid.y, b / (grid.x * grid.y)};
    emu.in_block = true;
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
  const char* name;

  template <class... Args>
  void operator()(Args&&... args) const {
    static_assert(sizeof...(Args) == sizeof...(Params), "kernel launched with the wrong number of arguments");
    const std::tuple<std::decay_t<Params>...> bound(std::forward<Args>(args)...);
    auto kernel_ = kernel;
    run_grid(name, grid, block, shared_bytes, [&bound, kernel_] { std::apply(kernel_, bound); });
  }
};

template <class... Params>
Launch<Params...> make_launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes,
                              cudaStream_t, const char* name) {
  return Launch<Params...>{kernel, grid, block, shared_bytes, name};
}

// ---- warp-level exchange ----
inline unsigned lane_of_current() { return emulator().current_linear % warpSize; }
inline unsigned warp_start_of_current() { return emulator().current_linear - lane_of_current(); }

// Wait until every lane of `mask` waits here too; the caller must be one of them.
inline void wait_at_warp_barrier(unsigned mask, const CallSite& site) {
  Emulator& emu = emulator();
  if (!emu.current) emulation_error(std::string(site.intrinsic) + " called outside a kernel");
  if (!(mask >> lane_of_current() & 1u))
    emulation_error(site_name(site) + " with mask " + hex(mask) + ", which does not name the calling lane " +
                    std::to_string(lane_of_current()));
  emu.current->state = FiberState::at_warp_barrier;
  emu.current->waiting_at = site;
  emu.current->warp_mask = mask;
  yield_to_scheduler();
}

// Every lane of `mask` offers `value`; returns the value offered by lane `source` (an index within
// the warp). Two barriers: all offer before any reads, all read before any offers again.
template <class T>
T exchange(T value, unsigned source, unsigned mask, const CallSite& site) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "shuffle of a type wider than 8 bytes");
  Emulator& emu = emulator();
  const unsigned self = emu.current_linear;
  const unsigned from = warp_start_of_current() + source;
  std::memcpy(emu.lanes[self].value, &value, sizeof(T));
  emu.lanes[self].offered = true;
  wait_at_warp_barrier(mask, site);
  if (source >= unsigned(warpSize) || !(mask >> source & 1u))
    emulation_error(site_name(site) + " reads lane " + std::to_string(source) + ", which is not in the mask " +
                    hex(mask) + " (its value is undefined)");
  if (from >= emu.lanes.size() || !emu.lanes[from].offered)
    emulation_error(site_name(site) + " reads lane " + std::to_string(source) +
                    ", which did not take part (exited or diverged)");
  T result;
  std::memcpy(&result, emu.lanes[from].value, sizeof(T));
  wait_at_warp_barrier(mask, site);
  emu.lanes[self].offered = false;
  return result;
}

// A misaligned vector access faults on a GPU; here it is named. kernels/vector_access.cuh calls it.
inline void check_alignment(const void* address, size_t alignment, const char* type) {
  if (reinterpret_cast<uintptr_t>(address) % alignment != 0) {
    char text[32];
    std::snprintf(text, sizeof text, "%p", address);
    emulation_error(std::string(type) + " access at " + text + ", which is not " + std::to_string(alignment) +
                    "-byte aligned");
  }
}

}  // namespace cvae_emulation

// ---- the launch macro (kernels/kernel_support.h defines the same one as <<<...>>> for nvcc) ----
#define CVAE_LAUNCH(kernel, grid, block, shared_bytes, stream) \
  ::cvae_emulation::make_launch(kernel, grid, block, shared_bytes, stream, #kernel)

// ---- runtime API subset (continued) ----
inline cudaError_t cudaGetLastError() {
  cudaError_t error = cvae_emulation::emulator().last_error;
  cvae_emulation::emulator().last_error = cudaSuccess;
  return error;
}
inline const char* cudaGetErrorString(cudaError_t error) {
  return error == cudaSuccess ? "no error" : "invalid configuration argument";
}

// ---- synchronisation (call sites from default arguments, so barriers can be told apart) ----
inline void __syncthreads(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) {
  cvae_emulation::Emulator& emu = cvae_emulation::emulator();
  if (!emu.current) cvae_emulation::emulation_error("__syncthreads called outside a kernel");
  emu.current->state = cvae_emulation::FiberState::at_block_barrier;
  emu.current->waiting_at = cvae_emulation::CallSite{"__syncthreads", file, line};
  cvae_emulation::yield_to_scheduler();
}
inline void __syncwarp(unsigned mask = 0xffffffffu, const char* file = __builtin_FILE(),
                       unsigned line = __builtin_LINE()) {
  cvae_emulation::wait_at_warp_barrier(mask, cvae_emulation::CallSite{"__syncwarp", file, line});
}

// ---- warp shuffles ----
template <class T>
T __shfl_sync(unsigned mask, T value, int source_lane, int width = warpSize, const char* file = __builtin_FILE(),
              unsigned line = __builtin_LINE()) {
  unsigned lane = cvae_emulation::lane_of_current();
  unsigned source = (lane & ~unsigned(width - 1)) + unsigned(source_lane) % unsigned(width);
  return cvae_emulation::exchange(value, source, mask, cvae_emulation::CallSite{"__shfl_sync", file, line});
}
template <class T>
T __shfl_down_sync(unsigned mask, T value, unsigned delta, int width = warpSize,
                   const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) {
  unsigned lane = cvae_emulation::lane_of_current();
  bool inside = (lane % unsigned(width)) + delta < unsigned(width);
  T other = cvae_emulation::exchange(value, inside ? lane + delta : lane, mask,
                                     cvae_emulation::CallSite{"__shfl_down_sync", file, line});
  return inside ? other : value;
}
template <class T>
T __shfl_xor_sync(unsigned mask, T value, int lane_mask, int width = warpSize, const char* file = __builtin_FILE(),
                  unsigned line = __builtin_LINE()) {
  unsigned lane = cvae_emulation::lane_of_current();
  unsigned source = lane ^ unsigned(lane_mask);
  bool inside = (source / unsigned(width)) == (lane / unsigned(width));
  T other = cvae_emulation::exchange(value, inside ? source : lane, mask,
                                     cvae_emulation::CallSite{"__shfl_xor_sync", file, line});
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

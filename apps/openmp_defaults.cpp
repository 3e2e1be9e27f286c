// How long OpenMP's idle threads spin before they sleep, chosen before the OpenMP runtime starts.
// libgomp spins ~300,000 rounds by default: on a quiet machine that saves a wake-up per parallel
// region, but beside another busy process the spinning threads take the cores the working ones
// need and an epoch takes many times as long (bench/README.md, "Threads on a shared machine"). A
// short spin keeps the quiet-machine speed and avoids the collapse.
//
// libgomp reads GOMP_SPINCOUNT / OMP_WAIT_POLICY once, in its own initialiser, before main and
// before anything main could set. So, first thing (the main executable's .preinit_array runs
// before every shared library's initialiser), a process whose environment sets neither runs
// itself again with GOMP_SPINCOUNT added; a user's own setting of either always wins. If the
// re-run is impossible (no /proc), the process simply carries on with libgomp's default.
#include <unistd.h>

#include <cstring>

namespace {

constexpr const char* kSpinSetting = "GOMP_SPINCOUNT=1000";
constexpr int kMostVariables = 4096;

bool starts_with(const char* text, const char* prefix) {
  return std::strncmp(text, prefix, std::strlen(prefix)) == 0;
}

// Runs before libc has adopted the environment, so it builds the new one by hand (no setenv).
void choose_openmp_wait(int, char** argv, char** env) {
  int count = 0;
  for (char** e = env; *e; ++e, ++count)
    if (starts_with(*e, "OMP_WAIT_POLICY=") || starts_with(*e, "GOMP_SPINCOUNT=") || count >= kMostVariables)
      return;
  char* fresh[kMostVariables + 2];
  for (int i = 0; i < count; ++i) fresh[i] = env[i];
  fresh[count] = const_cast<char*>(kSpinSetting);
  fresh[count + 1] = nullptr;
  ::execve("/proc/self/exe", argv, fresh);  // returns only when it could not run
}

// Linked into each executable (CMakeLists.txt): .preinit_array is the main executable's alone.
__attribute__((section(".preinit_array"), used)) void (*const openmp_wait_at_start)(int, char**, char**) =
    &choose_openmp_wait;

}  // namespace

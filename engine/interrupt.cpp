#include "engine/interrupt.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>

#include "engine/error.h"

namespace cvae {

namespace {

std::atomic<bool> stop_flag{false};

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// The first signal sets the flag; the second is re-raised with its default action, which ends the
// process (exit status 128 + signal, as if nothing had caught it).
void watch_stop_signals() {
  const sigset_t set = stop_signals();
  for (bool first = true;; first = false) {
    int signal_number = 0;
    if (sigwait(&set, &signal_number) != 0) continue;
    if (first) {
      stop_flag.store(true);
      continue;
    }
    ::signal(signal_number, SIG_DFL);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    ::raise(signal_number);
  }
}

}  // namespace

void install_stop_handler() {
  const sigset_t set = stop_signals();
  const int rc = pthread_sigmask(SIG_BLOCK, &set, nullptr);
  if (rc != 0) fail(std::string("cannot block SIGINT and SIGTERM (") + std::strerror(rc) + ")");
  std::thread(watch_stop_signals).detach();
}

bool stop_requested() { return stop_flag.load(std::memory_order_relaxed); }

}  // namespace cvae

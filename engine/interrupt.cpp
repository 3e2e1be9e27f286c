#include "engine/interrupt.h"

#include <signal.h>

namespace cvae {

namespace {

volatile sig_atomic_t stop_flag = 0;

void on_stop_signal(int signal_number) {
  stop_flag = 1;
  ::signal(signal_number, SIG_DFL);  // a second Ctrl-C ends the process at once
}

}  // namespace

void install_stop_handler() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

bool stop_requested() { return stop_flag != 0; }

}  // namespace cvae

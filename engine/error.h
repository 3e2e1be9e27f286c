// One exception type for everything a user can get wrong or a run can hit:
// a one-line message that names the thing and the problem. Apps print it and exit 2.
#pragma once
#include <stdexcept>
#include <string>
#include <utility>

namespace cvae {

struct Error : std::runtime_error {
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A numeric failure (NaN, divergence) during training: apps print it and exit 3,
// so scripts can tell a bad input (2) from a run that went wrong.
struct NumericError : Error {
  explicit NumericError(const std::string& message) : Error(message) {}
};

// Training stopped on request (Ctrl-C): apps say where it stopped and how to resume, and exit 130
// as a shell does for SIGINT. run_dir and last_epoch (0: no checkpoint yet) are filled in by the
// experiment that owned the run.
struct Interrupted : Error {
  explicit Interrupted(const std::string& message, std::string run = "", int epoch = 0)
      : Error(message), run_dir(std::move(run)), last_epoch(epoch) {}
  std::string run_dir;
  int last_epoch;
};

[[noreturn]] inline void fail(const std::string& message) { throw Error(message); }

}  // namespace cvae

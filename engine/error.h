// One exception type for everything a user can get wrong or a run can hit:
// a one-line message that names the thing and the problem. Apps print it and exit 2.
#pragma once
#include <stdexcept>
#include <string>

namespace cvae {

struct Error : std::runtime_error {
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A numeric failure (NaN, divergence) during training: apps print it and exit 3,
// so scripts can tell a bad input (2) from a run that went wrong.
struct NumericError : Error {
  explicit NumericError(const std::string& message) : Error(message) {}
};

[[noreturn]] inline void fail(const std::string& message) { throw Error(message); }

}  // namespace cvae

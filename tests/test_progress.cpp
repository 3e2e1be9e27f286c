#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>

#include "engine/train/progress.h"

using namespace cvae;

TEST_CASE("the progress line fits the terminal it is drawn on, and keeps the ETA while it can", "[progress]") {
  const std::string label = "[12/30 fashion lambdahot seed 3]";
  for (int columns : {200, 120, 80, 60, 50, 40, 30, 10, 1}) {
    for (bool bar : {true, false}) {
      CAPTURE(columns, bar);
      std::string text = progress_text(label, 7, 10, 23552, 60000, 123.456, 11.3, columns, bar);
      INFO(text);
      REQUIRE(static_cast<int>(text.size()) <= columns - 1);  // never reaches the last column
      if (columns >= 60) REQUIRE_THAT(text, Catch::Contains("epoch 7/10") && Catch::Contains("ETA "));
      if (columns >= 120) REQUIRE_THAT(text, Catch::StartsWith(label));
      if (bar && columns >= 80) REQUIRE_THAT(text, Catch::Contains("[=========>"));
      if (!bar && columns >= 60) REQUIRE_THAT(text, Catch::Contains(" 39%"));
    }
  }
  // ETA: the rest of this epoch and the three after it at this epoch's rate
  std::string text = progress_text("", 7, 10, 30000, 60000, 1.0, 10.0, 200, false);
  REQUIRE_THAT(text, Catch::Contains("3000 img/s") && Catch::Contains("ETA 1m10s"));
}

TEST_CASE("the terminal width comes from COLUMNS where stderr is no terminal", "[progress]") {
  if (::isatty(STDERR_FILENO)) {
    WARN("skipped: stderr is a terminal here, whose own width wins over COLUMNS");
    return;
  }
  const char* old = std::getenv("COLUMNS");
  std::string saved = old ? old : "";
  setenv("COLUMNS", "57", 1);
  REQUIRE(terminal_columns() == 57);
  setenv("COLUMNS", "wide", 1);
  REQUIRE(terminal_columns() == 80);
  if (old) setenv("COLUMNS", saved.c_str(), 1); else unsetenv("COLUMNS");
}

TEST_CASE("seconds are written for a reader", "[progress]") {
  REQUIRE(format_seconds(3.25) == "3.2s");
  REQUIRE(format_seconds(75) == "1m15s");
  REQUIRE(format_seconds(7300) == "2h01m");
}

TEST_CASE("the executables choose OpenMP's spin before the runtime starts, unless the user did", "[progress]") {
  // apps/openmp_defaults.cpp is linked into this test binary as into every app: by the time a test
  // runs, one of the two variables is set — the user's own, or the built-in short spin.
  const char* spin = std::getenv("GOMP_SPINCOUNT");
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  REQUIRE((spin != nullptr || policy != nullptr));
  if (spin && !policy) INFO("GOMP_SPINCOUNT=" << spin);
}

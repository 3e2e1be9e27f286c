#include "engine/progress.h"

#include <unistd.h>

#include <cstdio>

namespace cvae {

std::string format_seconds(double seconds) {
  char text[32];
  if (seconds < 60) std::snprintf(text, sizeof text, "%.1fs", seconds);
  else std::snprintf(text, sizeof text, "%dm%02ds", static_cast<int>(seconds) / 60, static_cast<int>(seconds) % 60);
  return text;
}

Progress::Progress(const std::string& mode, int epochs, const std::string& label)
    : epochs_(epochs), label_(label) {
  off_ = mode == "off";
  bar_ = mode == "bar" || (mode == "auto" && ::isatty(STDERR_FILENO));
}

void Progress::update(int epoch, long long done, long long total, double loss, double seconds) {
  if (off_ || !bar_) return;
  const int width = 24;
  int filled = static_cast<int>(width * done / (total > 0 ? total : 1));
  std::string bar(filled, '=');
  if (filled < width) bar += '>' + std::string(width - filled - 1, ' ');
  double rate = seconds > 0 ? done / seconds : 0;
  double epoch_eta = rate > 0 ? (total - done) / rate : 0;
  double eta = epoch_eta + (epochs_ - epoch) * (rate > 0 ? total / rate : 0);
  std::fprintf(stderr, "\r\033[K%s epoch %d/%d [%s] loss %.2f  %.0f img/s  ETA %s", label_.c_str(),
               epoch, epochs_, bar.c_str(), loss, rate, format_seconds(eta).c_str());
  std::fflush(stderr);
}

void Progress::epoch_line(const std::string& line) {
  if (off_) return;
  if (bar_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "%s %s\n", label_.c_str(), line.c_str());
  std::fflush(stderr);
}

}  // namespace cvae

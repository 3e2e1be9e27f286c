#include "engine/train/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace cvae {

namespace {
constexpr double kLineEverySeconds = 10.0;
constexpr int kBarWidth = 24, kSmallestBar = 6;
}  // namespace

std::string format_seconds(double seconds) {
  char text[32];
  if (seconds < 60) std::snprintf(text, sizeof text, "%.1fs", seconds);
  else if (seconds < 3600)
    std::snprintf(text, sizeof text, "%dm%02ds", static_cast<int>(seconds) / 60, static_cast<int>(seconds) % 60);
  else
    std::snprintf(text, sizeof text, "%dh%02dm", static_cast<int>(seconds) / 3600, static_cast<int>(seconds) / 60 % 60);
  return text;
}

int terminal_columns() {
  winsize size{};
  if (::isatty(STDERR_FILENO) && ::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
    return size.ws_col;
  if (const char* text = std::getenv("COLUMNS")) {
    char* end = nullptr;
    long value = std::strtol(text, &end, 10);
    if (end != text && *end == '\0' && value > 0 && value < 10000) return static_cast<int>(value);
  }
  return 80;
}

std::string progress_text(const std::string& label, int epoch, int epochs, long long done,
                          long long total, double loss, double seconds, int columns, bool bar) {
  const double rate = seconds > 0 ? done / seconds : 0;
  const double epoch_left = rate > 0 ? (total - done) / rate : 0;
  const double eta = epoch_left + (epochs - epoch) * (rate > 0 ? total / rate : 0);
  char numbers[160];
  std::snprintf(numbers, sizeof numbers, "loss %.2f  %.0f img/s  ETA %s", loss, rate,
                format_seconds(eta).c_str());
  char where[64];
  std::snprintf(where, sizeof where, "epoch %d/%d", epoch, epochs);
  const int room = columns - 1;
  auto join = [&](bool with_label, int bar_width) {
    std::string text = with_label && !label.empty() ? label + " " : "";
    text += where;
    if (bar_width > 0) {
      int filled = static_cast<int>(bar_width * done / (total > 0 ? total : 1));
      std::string cells(filled, '=');
      if (filled < bar_width) cells += '>' + std::string(bar_width - filled - 1, ' ');
      text += " [" + cells + "]";
    } else {
      char percent[16];
      std::snprintf(percent, sizeof percent, " %3d%%", static_cast<int>(100 * done / (total > 0 ? total : 1)));
      text += percent;
    }
    return text + "  " + numbers;
  };
  for (bool with_label : {true, false}) {
    if (bar) {
      // the widest bar that fits, down to kSmallestBar
      const int without = static_cast<int>(join(with_label, 0).size()) - 5;  // " 100%" out
      const int width = std::min(kBarWidth, room - without - 3);
      if (width >= kSmallestBar) return join(with_label, width);
    }
    std::string text = join(with_label, 0);
    if (static_cast<int>(text.size()) <= room) return text;
  }
  std::string text = join(false, 0);
  return text.substr(0, room > 0 ? room : 0);
}

Progress::Progress(const std::string& mode, int epochs, const std::string& label)
    : epochs_(epochs), label_(label) {
  off_ = mode == "off";
  bar_ = mode == "bar" || (mode == "auto" && ::isatty(STDERR_FILENO));
}

void Progress::update(int epoch, long long done, long long total, double loss, double seconds) {
  if (off_) return;
  if (bar_) {
    std::fprintf(stderr, "\r\033[K%s",
                 progress_text(label_, epoch, epochs_, done, total, loss, seconds, terminal_columns(), true).c_str());
    std::fflush(stderr);
    return;
  }
  // Plain lines: one every kLineEverySeconds inside an epoch, so a log shows a long epoch moving.
  if (epoch != last_line_epoch_) {
    last_line_epoch_ = epoch;
    last_line_at_ = 0;
  }
  if (seconds - last_line_at_ < kLineEverySeconds || done >= total) return;
  last_line_at_ = seconds;
  std::fprintf(stderr, "%s\n",
               progress_text(label_, epoch, epochs_, done, total, loss, seconds, 1 << 20, false).c_str());
  std::fflush(stderr);
}

void Progress::epoch_line(const std::string& line) {
  if (off_) return;
  if (bar_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "%s%s%s\n", label_.c_str(), label_.empty() ? "" : " ", line.c_str());
  std::fflush(stderr);
}

}  // namespace cvae

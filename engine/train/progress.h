// The progress line on stderr: redrawn in place on a terminal, fitted to its width; plain lines
// otherwise (logs, CI), one every 10 seconds inside an epoch and one per epoch.
#pragma once
#include <string>

namespace cvae {

class Progress {
 public:
  // mode: auto (bar on a terminal, else lines) | bar | lines | off
  Progress(const std::string& mode, int epochs, const std::string& label);
  void update(int epoch, long long done, long long total, double loss, double seconds);
  void epoch_line(const std::string& line);

 private:
  bool bar_ = false, off_ = false;
  int epochs_;
  std::string label_;
  double last_line_at_ = 0;  // lines mode: the epoch's seconds when the last plain line was written
  int last_line_epoch_ = 0;
};

std::string format_seconds(double seconds);

// The progress text for `columns` columns (never longer than columns − 1, so the cursor never
// wraps): label, epoch, a bar (when asked and there is room), loss, images/s and "ETA" — the time
// left for the whole run. Pieces are dropped from the least useful (bar, label) when narrow.
std::string progress_text(const std::string& label, int epoch, int epochs, long long done,
                          long long total, double loss, double seconds, int columns, bool bar);

// The width of the terminal on stderr, else $COLUMNS, else 80.
int terminal_columns();

}  // namespace cvae

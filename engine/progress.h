// The progress line on stderr: redrawn in place on a terminal, plain lines otherwise (logs, CI).
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
};

std::string format_seconds(double seconds);

}  // namespace cvae

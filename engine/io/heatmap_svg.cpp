#include "engine/io/heatmap_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/io/svg.h"

namespace cvae {

namespace {

// Light yellow (small) to dark blue (large): readable in print and for most colour vision.
std::string colour(double t) {
  t = std::clamp(t, 0.0, 1.0);
  int r = static_cast<int>(255 * (1 - t) + 8 * t), g = static_cast<int>(247 * (1 - t) + 48 * t),
      b = static_cast<int>(188 * (1 - t) + 107 * t);
  char text[16];
  std::snprintf(text, sizeof text, "#%02x%02x%02x", r, g, b);
  return text;
}

// Distances with one decimal always ("7.0", not "7"), so the cells line up.
std::string one_decimal(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", v);
  return text;
}

}  // namespace

std::string heatmap_svg(const std::vector<double>& m, int n, const std::vector<std::string>& labels,
                        const std::string& title) {
  const int cell = 44, left = 100, top = 110;
  double lo = 1e300, hi = -1e300;
  for (int a = 0; a < n; ++a)
    for (int b = 0; b < n; ++b)
      if (a != b) { lo = std::min(lo, m[a * n + b]); hi = std::max(hi, m[a * n + b]); }
  const bool all_equal = hi - lo <= 1e-9 * std::max(1.0, std::abs(hi));  // lambda-hot's fixed centres
  if (all_equal) hi = lo + 1;
  // The colour scale: a bar beside the matrix from the smallest distance (top) to the largest.
  const int scale_x = left + n * cell + 24, scale_width = 16, steps = 20;
  const int width = scale_x + scale_width + 60, height = top + n * cell + 20;
  const double font = 11;
  SvgBuilder svg(width, height);
  svg.rect(0, 0, width, height, "white");
  svg.text(left, 20, title, 14);
  for (int a = 0; a < n; ++a) {
    svg.text(left - 6, top + a * cell + cell / 2 + 4, labels[a], font, "end");
    const int x = left + a * cell + cell / 2, y = top - 6;
    svg.text(0, 0, labels[a], font, "start",
             "transform=\"translate(" + std::to_string(x) + "," + std::to_string(y) + ") rotate(-45)\"");
    for (int b = 0; b < n; ++b) {
      const double v = m[a * n + b];
      const double t = a == b ? 0 : (v - lo) / (hi - lo);
      svg.rect(left + b * cell, top + a * cell, cell, cell, a == b ? "#eeeeee" : colour(t));
      svg.text(left + b * cell + cell / 2, top + a * cell + cell / 2 + 4, one_decimal(v), font, "middle",
               t > 0.55 ? "fill=\"white\"" : "fill=\"black\"");
    }
  }
  const int bar = n * cell;
  for (int k = 0; k < steps; ++k)
    svg.rect(scale_x, top + k * bar / steps, scale_width, bar / steps + 1,
             colour(all_equal ? 0.0 : (k + 0.5) / steps));
  for (int k = 0; k <= (all_equal ? 0 : 4); ++k) {  // equal distances: one colour, one value
    const double v = lo + (hi - lo) * k / 4;
    const int y = top + k * bar / 4;
    svg.line(scale_x + scale_width, y, scale_x + scale_width + 4, y, "black");
    svg.text(scale_x + scale_width + 7, y + 4, one_decimal(v), font);
  }
  svg.text(scale_x, top - 8, "distance", font);
  return svg.finish(true);
}

}  // namespace cvae

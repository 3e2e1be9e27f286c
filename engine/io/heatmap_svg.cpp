#include "engine/io/heatmap_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace cvae {

namespace {

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

// Light yellow (small) to dark blue (large): readable in print and for most colour vision.
std::string colour(double t) {
  t = std::clamp(t, 0.0, 1.0);
  int r = static_cast<int>(255 * (1 - t) + 8 * t), g = static_cast<int>(247 * (1 - t) + 48 * t),
      b = static_cast<int>(188 * (1 - t) + 107 * t);
  char text[16];
  std::snprintf(text, sizeof text, "#%02x%02x%02x", r, g, b);
  return text;
}

}  // namespace

std::vector<std::string> class_names(const std::string& dataset, int classes) {
  std::vector<std::string> names;
  static const char* fashion[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
  for (int c = 0; c < classes; ++c)
    names.push_back(dataset == "fashion" && c < 10 ? fashion[c] : std::to_string(c));
  return names;
}

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
  std::string svg;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                "font-family=\"DejaVu Sans, sans-serif\" font-size=\"11\">\n"
                "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
                "<text x=\"%d\" y=\"20\" font-size=\"14\">%s</text>\n",
                width, height, left, escape(title).c_str());
  svg += buf;
  for (int a = 0; a < n; ++a) {
    std::snprintf(buf, sizeof buf, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", left - 6,
                  top + a * cell + cell / 2 + 4, escape(labels[a]).c_str());
    svg += buf;
    std::snprintf(buf, sizeof buf,
                  "<text transform=\"translate(%d,%d) rotate(-45)\">%s</text>\n",
                  left + a * cell + cell / 2, top - 6, escape(labels[a]).c_str());
    svg += buf;
    for (int b = 0; b < n; ++b) {
      double v = m[a * n + b];
      double t = a == b ? 0 : (v - lo) / (hi - lo);
      std::snprintf(buf, sizeof buf,
                    "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>"
                    "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\">%.1f</text>\n",
                    left + b * cell, top + a * cell, cell, cell, a == b ? "#eeeeee" : colour(t).c_str(),
                    left + b * cell + cell / 2, top + a * cell + cell / 2 + 4, t > 0.55 ? "white" : "black", v);
      svg += buf;
    }
  }
  const int bar = n * cell;
  for (int k = 0; k < steps; ++k) {
    std::snprintf(buf, sizeof buf, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>\n",
                  scale_x, top + k * bar / steps, scale_width, bar / steps + 1,
                  colour(all_equal ? 0.0 : (k + 0.5) / steps).c_str());
    svg += buf;
  }
  for (int k = 0; k <= (all_equal ? 0 : 4); ++k) {  // equal distances: one colour, one value
    const double v = lo + (hi - lo) * k / 4;
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>"
                  "<text x=\"%d\" y=\"%d\">%.1f</text>\n",
                  scale_x + scale_width, top + k * bar / 4, scale_x + scale_width + 4, top + k * bar / 4,
                  scale_x + scale_width + 7, top + k * bar / 4 + 4, v);
    svg += buf;
  }
  std::snprintf(buf, sizeof buf, "<text x=\"%d\" y=\"%d\">distance</text>\n", scale_x, top - 8);
  svg += buf;
  svg += "</svg>\n";
  return svg;
}

}  // namespace cvae

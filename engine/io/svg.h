// SVG written directly: a small builder that appends elements to a string, escapes text and
// attribute values, and prints numbers with a fixed number of decimals (so files are compact and
// the same bits give the same text). `standalone` documents carry the XML declaration and the SVG
// namespace; inline ones (inside HTML) do not need them.
#pragma once
#include <string>

namespace cvae {

// Escapes & < > " ' for XML text and attribute values.
std::string xml_escape(const std::string& text);
// Fixed-point with `decimals` digits, trailing zeros removed ("12.5", "3", "-0.25").
std::string svg_number(double value, int decimals = 2);

class SvgBuilder {
 public:
  SvgBuilder(double width, double height);
  // Raw markup, for what the helpers below do not cover (the caller escapes).
  void raw(const std::string& markup) { body_ += markup; }
  void rect(double x, double y, double width, double height, const std::string& fill,
            const std::string& extra = "");
  void circle(double cx, double cy, double r, const std::string& fill);
  void line(double x1, double y1, double x2, double y2, const std::string& stroke, double width = 1,
            const std::string& extra = "");
  // A polyline through (xs[i], ys[i]).
  void polyline(const double* xs, const double* ys, int count, const std::string& stroke,
                double width = 1.5);
  // anchor: "start" | "middle" | "end".
  void text(double x, double y, const std::string& content, double size = 12,
            const std::string& anchor = "start", const std::string& extra = "");
  std::string finish(bool standalone) const;

 private:
  double width_, height_;
  std::string body_;
};

}  // namespace cvae

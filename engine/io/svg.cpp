#include "engine/io/svg.h"

#include <cmath>
#include <cstdio>

namespace cvae {

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string svg_number(double value, int decimals) {
  if (!std::isfinite(value)) value = 0;
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  std::string s = text;
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

SvgBuilder::SvgBuilder(double width, double height) : width_(width), height_(height) {}

void SvgBuilder::rect(double x, double y, double width, double height, const std::string& fill,
                      const std::string& extra) {
  body_ += "<rect x=\"" + svg_number(x) + "\" y=\"" + svg_number(y) + "\" width=\"" +
           svg_number(width) + "\" height=\"" + svg_number(height) + "\" fill=\"" +
           xml_escape(fill) + "\"" + (extra.empty() ? "" : " " + extra) + "/>\n";
}

void SvgBuilder::circle(double cx, double cy, double r, const std::string& fill) {
  body_ += "<circle cx=\"" + svg_number(cx, 1) + "\" cy=\"" + svg_number(cy, 1) + "\" r=\"" +
           svg_number(r, 1) + "\" fill=\"" + xml_escape(fill) + "\"/>\n";
}

void SvgBuilder::line(double x1, double y1, double x2, double y2, const std::string& stroke,
                      double width, const std::string& extra) {
  body_ += "<line x1=\"" + svg_number(x1) + "\" y1=\"" + svg_number(y1) + "\" x2=\"" +
           svg_number(x2) + "\" y2=\"" + svg_number(y2) + "\" stroke=\"" + xml_escape(stroke) +
           "\" stroke-width=\"" + svg_number(width) + "\"" + (extra.empty() ? "" : " " + extra) +
           "/>\n";
}

void SvgBuilder::polyline(const double* xs, const double* ys, int count, const std::string& stroke,
                          double width) {
  body_ += "<polyline fill=\"none\" stroke=\"" + xml_escape(stroke) + "\" stroke-width=\"" +
           svg_number(width) + "\" stroke-linejoin=\"round\" points=\"";
  for (int i = 0; i < count; ++i)
    body_ += (i ? " " : "") + svg_number(xs[i]) + "," + svg_number(ys[i]);
  body_ += "\"/>\n";
}

void SvgBuilder::text(double x, double y, const std::string& content, double size,
                      const std::string& anchor, const std::string& extra) {
  body_ += "<text x=\"" + svg_number(x) + "\" y=\"" + svg_number(y) + "\" font-size=\"" +
           svg_number(size) + "\" text-anchor=\"" + xml_escape(anchor) + "\"" +
           (extra.empty() ? "" : " " + extra) + ">" + xml_escape(content) + "</text>\n";
}

std::string SvgBuilder::finish(bool standalone) const {
  std::string head;
  if (standalone) head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  head += "<svg";
  if (standalone) head += " xmlns=\"http://www.w3.org/2000/svg\"";
  head += " width=\"" + svg_number(width_) + "\" height=\"" + svg_number(height_) +
          "\" viewBox=\"0 0 " + svg_number(width_) + " " + svg_number(height_) +
          "\" font-family=\"DejaVu Sans, Verdana, sans-serif\">\n";
  return head + body_ + "</svg>\n";
}

}  // namespace cvae

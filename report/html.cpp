#include "report/html.h"

#include <cstdint>

#include "engine/io/svg.h"
#include "report/png.h"

namespace cvae {

std::string html_escape(const std::string& text) { return xml_escape(text); }

std::string base64_encode(const std::string& bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                 static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string data_uri(const std::string& mime, const std::string& bytes) {
  return "data:" + mime + ";base64," + base64_encode(bytes);
}

namespace {

const char* const kStyle = R"CSS(
body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 24px auto; max-width: 1240px;
       color: #222; padding: 0 16px; line-height: 1.45; }
h1 { font-size: 26px; margin-bottom: 4px; }
h2 { font-size: 20px; margin-top: 36px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 16px; margin-top: 22px; }
.sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 14px; }
th, td { border: 1px solid #d6d6d6; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 12px 0 24px; }
figcaption { color: #555; font-size: 14px; max-width: 980px; }
img { max-width: 100%; height: auto; border: 1px solid #e6e6e6; }
.row { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
.row figure { margin: 0; }
.verdict { font-size: 16px; padding: 8px 12px; background: #f6f8fa; border-left: 4px solid #4a7; margin: 6px 0; }
.verdict.no { border-left-color: #c55; }
.key { font-size: 15px; }
code { background: #f3f3f3; padding: 1px 4px; }
)CSS";

}  // namespace

std::string png_img(const Raster& image, const std::string& alt, const std::string& css_class) {
  return "<img src=\"" + data_uri("image/png", encode_png(image)) + "\" alt=\"" + html_escape(alt) +
         "\" width=\"" + std::to_string(image.width) + "\" height=\"" + std::to_string(image.height) +
         "\"" + (css_class.empty() ? "" : " class=\"" + css_class + "\"") + ">";
}

std::string page_start(const std::string& title) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
         html_escape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
}

std::string page_end() { return "</body>\n</html>\n"; }

}  // namespace cvae

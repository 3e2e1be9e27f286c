// Pieces of self-contained HTML: escaping, files embedded as data: URIs (base64), so a report
// opens anywhere without a network or the files beside it, and the frame and style every page of
// the report shares.
#pragma once
#include <string>

#include "report/raster.h"

namespace cvae {

std::string html_escape(const std::string& text);  // & < > " '
std::string base64_encode(const std::string& bytes);
// "data:<mime>;base64,<…>"
std::string data_uri(const std::string& mime, const std::string& bytes);

// A page's head (title, the report's style sheet) and its end.
std::string page_start(const std::string& title);
std::string page_end();
// An <img> with the raster embedded as PNG, its size given (css_class: optional).
std::string png_img(const Raster& image, const std::string& alt, const std::string& css_class = "");

}  // namespace cvae

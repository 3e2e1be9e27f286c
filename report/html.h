// Pieces of self-contained HTML: escaping, and files embedded as data: URIs (base64), so a report
// opens anywhere without a network or the files beside it.
#pragma once
#include <string>

namespace cvae {

std::string html_escape(const std::string& text);  // & < > " '
std::string base64_encode(const std::string& bytes);
// "data:<mime>;base64,<…>"
std::string data_uri(const std::string& mime, const std::string& bytes);

}  // namespace cvae

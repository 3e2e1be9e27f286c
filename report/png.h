// PNG files through libpng: an 8-bit RGB raster to the file format's bytes, and back (any PNG
// libpng reads — grey, palette, alpha, 16-bit — is converted to 8-bit RGB, alpha dropped).
#pragma once
#include <string>

#include "report/raster.h"

namespace cvae {

// An image of at most 256 colours is written as a palette image (a third of the size or less),
// any other as 8-bit RGB; both decode to the same pixels.
std::string encode_png(const Raster& image);
// `source` names the bytes in errors (a file path).
Raster decode_png(const std::string& bytes, const std::string& source);

}  // namespace cvae

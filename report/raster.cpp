#include "report/raster.h"

#include <string>

#include "engine/error.h"

namespace cvae {

Raster make_raster(int width, int height, Rgb background) {
  if (width < 1 || height < 1 || width > 16384 || height > 16384)
    fail("raster: size " + std::to_string(width) + "x" + std::to_string(height) + " out of range");
  Raster image;
  image.width = width;
  image.height = height;
  image.rgb.resize(static_cast<size_t>(width) * height * 3);
  for (size_t i = 0; i < image.rgb.size(); i += 3) {
    image.rgb[i] = background.r;
    image.rgb[i + 1] = background.g;
    image.rgb[i + 2] = background.b;
  }
  return image;
}

void blit(Raster& image, const Raster& source, int x, int y) {
  for (int row = 0; row < source.height; ++row) {
    int ty = y + row;
    if (ty < 0 || ty >= image.height) continue;
    for (int col = 0; col < source.width; ++col) {
      int tx = x + col;
      if (tx < 0 || tx >= image.width) continue;
      const uint8_t* s = &source.rgb[(static_cast<size_t>(row) * source.width + col) * 3];
      uint8_t* d = &image.rgb[(static_cast<size_t>(ty) * image.width + tx) * 3];
      d[0] = s[0];
      d[1] = s[1];
      d[2] = s[2];
    }
  }
}

}  // namespace cvae

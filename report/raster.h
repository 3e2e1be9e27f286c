// An RGB image in memory: what cairo's image surfaces are converted into (report/canvas.h), what
// the PNG writer and reader take and give (report/png.h), and what composites of finished
// figures are pasted together in (report/figures.h).
#pragma once
#include <cstdint>
#include <vector>

namespace cvae {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

struct Raster {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // width·height·3, row-major, top row first
};

Raster make_raster(int width, int height, Rgb background);

// Copies `source` into `image` with its top-left corner at (x, y); what falls outside is clipped.
void blit(Raster& image, const Raster& source, int x, int y);

}  // namespace cvae

// An RGB image in memory and the few drawing operations the figures need: rectangles,
// anti-aliased discs (scatter points), grey-scale tiles (decoded images) and text in a built-in
// 5×9 bitmap font (ASCII plus a few Greek letters and signs), so that PNG figures carry their own
// titles, legends and row labels without a font library.
#pragma once
#include <cstdint>
#include <string>
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

// Pixels outside the raster are clipped by every operation below.
void fill_rect(Raster& image, int x, int y, int width, int height, Rgb color);
// Blends `color` over pixel (x, y) with opacity alpha ∈ [0, 1].
void blend_pixel(Raster& image, int x, int y, Rgb color, float alpha);
// A filled disc drawn with opacity `alpha`; anti-aliased by the covered fraction of each pixel
// (4×4 supersampling), or hard-edged (pixels whose centre is inside), which keeps the number of
// colours small — and the PNG small, as a palette image.
void fill_disc(Raster& image, double cx, double cy, double radius, Rgb color, float alpha,
               bool antialias = true);
// An image of rows×cols values in [0, 1] as grey levels (0 black, 1 white), each value a
// scale×scale block, top-left corner at (x, y).
void draw_gray_tile(Raster& image, int x, int y, const float* values, int rows, int cols, int scale);
// Copies `source` into `image` with its top-left corner at (x, y).
void blit(Raster& image, const Raster& source, int x, int y);

// Text in the built-in font: each glyph is 5×9 cells (7 above the baseline, 2 below) on a 6-cell
// advance, every cell a scale×scale block; (x, y) is the top-left corner of the first glyph.
// UTF-8 input; characters the font lacks are drawn as '?'. Returns the width drawn in pixels.
int draw_text(Raster& image, int x, int y, const std::string& text, Rgb color, int scale);
int text_width(const std::string& text, int scale);
constexpr int kGlyphHeight = 9;  // cells; a line of text is kGlyphHeight·scale pixels tall

}  // namespace cvae

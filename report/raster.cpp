#include "report/raster.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "engine/error.h"

namespace cvae {

namespace {

// The font: 9 rows of 5 cells per glyph, '#' set, '.' clear; rows 0–6 sit above the baseline
// (capitals fill them, lower case starts at row 2), rows 7–8 hold descenders.
struct GlyphSource {
  char32_t code;
  const char* rows;
};

const GlyphSource kGlyphs[] = {
    {U' ', "..... ..... ..... ..... ..... ..... ..... ..... ....."},
    {U'!', "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#.. ..... ....."},
    {U'"', ".#.#. .#.#. ..... ..... ..... ..... ..... ..... ....."},
    {U'#', ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#. ..... ....."},
    {U'$', "..#.. .#### #.#.. .###. ..#.# ####. ..#.. ..... ....."},
    {U'%', "##... ##..# ...#. ..#.. .#... #..## ...## ..... ....."},
    {U'&', ".##.. #..#. #.#.. .#... #.#.# #..#. .##.# ..... ....."},
    {U'\'', "..#.. ..#.. ..... ..... ..... ..... ..... ..... ....."},
    {U'(', "...#. ..#.. .#... .#... .#... ..#.. ...#. ..... ....."},
    {U')', ".#... ..#.. ...#. ...#. ...#. ..#.. .#... ..... ....."},
    {U'*', "..... ..#.. #.#.# .###. #.#.# ..#.. ..... ..... ....."},
    {U'+', "..... ..#.. ..#.. ##### ..#.. ..#.. ..... ..... ....."},
    {U',', "..... ..... ..... ..... ..... .##.. ..#.. .#... ....."},
    {U'-', "..... ..... ..... .###. ..... ..... ..... ..... ....."},
    {U'.', "..... ..... ..... ..... ..... .##.. .##.. ..... ....."},
    {U'/', "....# ....# ...#. ..#.. .#... #.... #.... ..... ....."},
    {U'0', ".###. #...# #..## #.#.# ##..# #...# .###. ..... ....."},
    {U'1', "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###. ..... ....."},
    {U'2', ".###. #...# ....# ...#. ..#.. .#... ##### ..... ....."},
    {U'3', "##### ...#. ..#.. ...#. ....# #...# .###. ..... ....."},
    {U'4', "...#. ..##. .#.#. #..#. ##### ...#. ...#. ..... ....."},
    {U'5', "##### #.... ####. ....# ....# #...# .###. ..... ....."},
    {U'6', "..##. .#... #.... ####. #...# #...# .###. ..... ....."},
    {U'7', "##### ....# ...#. ..#.. .#... .#... .#... ..... ....."},
    {U'8', ".###. #...# #...# .###. #...# #...# .###. ..... ....."},
    {U'9', ".###. #...# #...# .#### ....# ...#. .##.. ..... ....."},
    {U':', "..... .##.. .##.. ..... .##.. .##.. ..... ..... ....."},
    {U';', "..... .##.. .##.. ..... .##.. ..#.. .#... ..... ....."},
    {U'<', "...#. ..#.. .#... #.... .#... ..#.. ...#. ..... ....."},
    {U'=', "..... ..... ##### ..... ##### ..... ..... ..... ....."},
    {U'>', ".#... ..#.. ...#. ....# ...#. ..#.. .#... ..... ....."},
    {U'?', ".###. #...# ....# ...#. ..#.. ..... ..#.. ..... ....."},
    {U'@', ".###. #...# ....# .##.# #.#.# #.#.# .###. ..... ....."},
    {U'A', ".###. #...# #...# ##### #...# #...# #...# ..... ....."},
    {U'B', "####. #...# #...# ####. #...# #...# ####. ..... ....."},
    {U'C', ".###. #...# #.... #.... #.... #...# .###. ..... ....."},
    {U'D', "###.. #..#. #...# #...# #...# #..#. ###.. ..... ....."},
    {U'E', "##### #.... #.... ####. #.... #.... ##### ..... ....."},
    {U'F', "##### #.... #.... ####. #.... #.... #.... ..... ....."},
    {U'G', ".###. #...# #.... #.### #...# #...# .#### ..... ....."},
    {U'H', "#...# #...# #...# ##### #...# #...# #...# ..... ....."},
    {U'I', ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###. ..... ....."},
    {U'J', "..### ...#. ...#. ...#. ...#. #..#. .##.. ..... ....."},
    {U'K', "#...# #..#. #.#.. ##... #.#.. #..#. #...# ..... ....."},
    {U'L', "#.... #.... #.... #.... #.... #.... ##### ..... ....."},
    {U'M', "#...# ##.## #.#.# #.#.# #...# #...# #...# ..... ....."},
    {U'N', "#...# #...# ##..# #.#.# #..## #...# #...# ..... ....."},
    {U'O', ".###. #...# #...# #...# #...# #...# .###. ..... ....."},
    {U'P', "####. #...# #...# ####. #.... #.... #.... ..... ....."},
    {U'Q', ".###. #...# #...# #...# #.#.# #..#. .##.# ..... ....."},
    {U'R', "####. #...# #...# ####. #.#.. #..#. #...# ..... ....."},
    {U'S', ".#### #.... #.... .###. ....# ....# ####. ..... ....."},
    {U'T', "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..... ....."},
    {U'U', "#...# #...# #...# #...# #...# #...# .###. ..... ....."},
    {U'V', "#...# #...# #...# #...# #...# .#.#. ..#.. ..... ....."},
    {U'W', "#...# #...# #...# #.#.# #.#.# #.#.# .#.#. ..... ....."},
    {U'X', "#...# #...# .#.#. ..#.. .#.#. #...# #...# ..... ....."},
    {U'Y', "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#.. ..... ....."},
    {U'Z', "##### ....# ...#. ..#.. .#... #.... ##### ..... ....."},
    {U'[', ".###. .#... .#... .#... .#... .#... .###. ..... ....."},
    {U'\\', "#.... #.... .#... ..#.. ...#. ....# ....# ..... ....."},
    {U']', ".###. ...#. ...#. ...#. ...#. ...#. .###. ..... ....."},
    {U'^', "..#.. .#.#. #...# ..... ..... ..... ..... ..... ....."},
    {U'_', "..... ..... ..... ..... ..... ..... ..... ##### ....."},
    {U'`', ".#... ..#.. ..... ..... ..... ..... ..... ..... ....."},
    {U'a', "..... ..... .###. ....# .#### #...# .#### ..... ....."},
    {U'b', "#.... #.... #.##. ##..# #...# #...# ####. ..... ....."},
    {U'c', "..... ..... .###. #.... #.... #...# .###. ..... ....."},
    {U'd', "....# ....# .##.# #..## #...# #...# .#### ..... ....."},
    {U'e', "..... ..... .###. #...# ##### #.... .###. ..... ....."},
    {U'f', "..##. .#..# .#... ###.. .#... .#... .#... ..... ....."},
    {U'g', "..... ..... .#### #...# #...# .#### ....# #...# .###."},
    {U'h', "#.... #.... #.##. ##..# #...# #...# #...# ..... ....."},
    {U'i', "..#.. ..... .##.. ..#.. ..#.. ..#.. .###. ..... ....."},
    {U'j', "...#. ..... ..##. ...#. ...#. ...#. ...#. #..#. .##.."},
    {U'k', "#.... #.... #..#. #.#.. ##... #.#.. #..#. ..... ....."},
    {U'l', ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###. ..... ....."},
    {U'm', "..... ..... ##.#. #.#.# #.#.# #.#.# #.#.# ..... ....."},
    {U'n', "..... ..... #.##. ##..# #...# #...# #...# ..... ....."},
    {U'o', "..... ..... .###. #...# #...# #...# .###. ..... ....."},
    {U'p', "..... ..... ####. #...# #...# ####. #.... #.... #...."},
    {U'q', "..... ..... .#### #...# #...# .#### ....# ....# ....#"},
    {U'r', "..... ..... #.##. ##..# #.... #.... #.... ..... ....."},
    {U's', "..... ..... .###. #.... .###. ....# ####. ..... ....."},
    {U't', ".#... .#... ###.. .#... .#... .#..# ..##. ..... ....."},
    {U'u', "..... ..... #...# #...# #...# #..## .##.# ..... ....."},
    {U'v', "..... ..... #...# #...# #...# .#.#. ..#.. ..... ....."},
    {U'w', "..... ..... #...# #...# #.#.# #.#.# .#.#. ..... ....."},
    {U'x', "..... ..... #...# .#.#. ..#.. .#.#. #...# ..... ....."},
    {U'y', "..... ..... #...# #...# #...# .#### ....# #...# .###."},
    {U'z', "..... ..... ##### ...#. ..#.. .#... ##### ..... ....."},
    {U'{', "...#. ..#.. ..#.. .#... ..#.. ..#.. ...#. ..... ....."},
    {U'|', "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..... ....."},
    {U'}', ".#... ..#.. ..#.. ...#. ..#.. ..#.. .#... ..... ....."},
    {U'~', "..... ..... .#... #.#.# ...#. ..... ..... ..... ....."},
    // The Greek letters and signs the figures' titles use.
    {U'\u03BC', "..... ..... #...# #...# #...# ##..# #.##. #.... #...."},  // μ
    {U'\u03BB', "#.... .#... .#... ..#.. .#.#. #...# #...# ..... ....."},  // λ
    {U'\u03C3', "..... ..... .#### #..#. #...# #...# .###. ..... ....."},  // σ
    {U'\u03B2', ".##.. #..#. #..#. ###.. #...# #...# ####. #.... #...."},  // β
    {U'\u03B5', "..... ..... .###. #.... .##.. #.... .###. ..... ....."},  // ε
    {U'\u00B1', "..#.. ..#.. ##### ..#.. ..#.. ..... ##### ..... ....."},  // ±
    {U'\u00B7', "..... ..... ..... ..#.. ..... ..... ..... ..... ....."},  // ·
    {U'\u00B2', ".##.. ...#. ..#.. .###. ..... ..... ..... ..... ....."},  // ²
    {U'\u00D7', "..... ..... #...# .#.#. ..#.. .#.#. #...# ..... ....."},  // ×
    {U'\u2013', "..... ..... ..... ##### ..... ..... ..... ..... ....."},  // –
    {U'\u2014', "..... ..... ..... ##### ..... ..... ..... ..... ....."},  // —
    {U'\u2192', "..... ..#.. ...#. ##### ...#. ..#.. ..... ..... ....."},  // →
};

using GlyphRows = std::array<uint8_t, kGlyphHeight>;

const std::map<char32_t, GlyphRows>& glyph_table() {
  static const std::map<char32_t, GlyphRows> table = [] {
    std::map<char32_t, GlyphRows> t;
    for (const GlyphSource& g : kGlyphs) {
      GlyphRows rows{};
      const char* p = g.rows;
      for (int r = 0; r < kGlyphHeight; ++r) {
        uint8_t bits = 0;
        for (int c = 0; c < 5; ++c, ++p) bits = static_cast<uint8_t>((bits << 1) | (*p == '#'));
        if (*p == ' ') ++p;
        rows[r] = bits;
      }
      t[g.code] = rows;
    }
    return t;
  }();
  return table;
}

// UTF-8 to code points; a malformed byte becomes U+FFFD (drawn as '?').
std::u32string decode_utf8(const std::string& text) {
  std::u32string out;
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    int extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (extra < 0 || i + extra >= text.size()) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    char32_t code = extra == 0 ? c : c & (0x3F >> extra);
    bool ok = true;
    for (int k = 1; k <= extra; ++k) {
      unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next >> 6) != 2) ok = false;
      code = (code << 6) | (next & 0x3F);
    }
    if (!ok) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(code);
    i += extra + 1;
  }
  return out;
}

uint8_t mix(uint8_t under, uint8_t over, float alpha) {
  return static_cast<uint8_t>(std::lround(under + (over - under) * alpha));
}

}  // namespace

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

void fill_rect(Raster& image, int x, int y, int width, int height, Rgb color) {
  int x0 = std::max(x, 0), y0 = std::max(y, 0);
  int x1 = std::min(x + width, image.width), y1 = std::min(y + height, image.height);
  for (int row = y0; row < y1; ++row)
    for (int col = x0; col < x1; ++col) {
      uint8_t* p = &image.rgb[(static_cast<size_t>(row) * image.width + col) * 3];
      p[0] = color.r;
      p[1] = color.g;
      p[2] = color.b;
    }
}

void blend_pixel(Raster& image, int x, int y, Rgb color, float alpha) {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height || alpha <= 0) return;
  alpha = std::min(alpha, 1.0f);
  uint8_t* p = &image.rgb[(static_cast<size_t>(y) * image.width + x) * 3];
  p[0] = mix(p[0], color.r, alpha);
  p[1] = mix(p[1], color.g, alpha);
  p[2] = mix(p[2], color.b, alpha);
}

void fill_disc(Raster& image, double cx, double cy, double radius, Rgb color, float alpha,
               bool antialias) {
  const int x0 = static_cast<int>(std::floor(cx - radius)), x1 = static_cast<int>(std::ceil(cx + radius));
  const int y0 = static_cast<int>(std::floor(cy - radius)), y1 = static_cast<int>(std::ceil(cy + radius));
  const double r2 = radius * radius;
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      if (!antialias) {
        double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
        if (dx * dx + dy * dy <= r2) blend_pixel(image, x, y, color, alpha);
        continue;
      }
      int inside = 0;
      for (int sy = 0; sy < 4; ++sy)
        for (int sx = 0; sx < 4; ++sx) {
          double dx = x + (sx + 0.5) / 4 - cx, dy = y + (sy + 0.5) / 4 - cy;
          inside += dx * dx + dy * dy <= r2;
        }
      if (inside) blend_pixel(image, x, y, color, alpha * inside / 16.0f);
    }
}

void draw_gray_tile(Raster& image, int x, int y, const float* values, int rows, int cols, int scale) {
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      float v = std::min(std::max(values[static_cast<size_t>(r) * cols + c], 0.0f), 1.0f);
      uint8_t level = static_cast<uint8_t>(std::lround(v * 255.0f));
      fill_rect(image, x + c * scale, y + r * scale, scale, scale, {level, level, level});
    }
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

int text_width(const std::string& text, int scale) {
  size_t glyphs = decode_utf8(text).size();
  return glyphs == 0 ? 0 : static_cast<int>(glyphs * 6 - 1) * scale;
}

int draw_text(Raster& image, int x, int y, const std::string& text, Rgb color, int scale) {
  const auto& table = glyph_table();
  int pen = x;
  for (char32_t code : decode_utf8(text)) {
    auto it = table.find(code);
    if (it == table.end()) it = table.find(U'?');
    for (int r = 0; r < kGlyphHeight; ++r)
      for (int c = 0; c < 5; ++c)
        if (it->second[r] & (0x10 >> c)) fill_rect(image, pen + c * scale, y + r * scale, scale, scale, color);
    pen += 6 * scale;
  }
  return pen > x ? pen - x - scale : 0;
}

}  // namespace cvae

// The figures drawn with cairo: text lands where it is measured, antialiased; the scatter's PNG
// and SVG come out the size they state, with one marker per point and nothing clipped; image
// tiles keep their exact grey levels; the composite's legend sits beside the panels.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/io/heatmap_svg.h"
#include "report/canvas.h"
#include "report/figures.h"
#include "report/png.h"
#include "tests/test_helpers.h"
#include "tests/test_report_helpers.h"

using namespace cvae;

namespace {

const uint8_t* pixel(const Raster& image, int x, int y) {
  return &image.rgb[(static_cast<size_t>(y) * image.width + x) * 3];
}

bool white(const Raster& image, int x, int y) {
  const uint8_t* p = pixel(image, x, y);
  return p[0] == 255 && p[1] == 255 && p[2] == 255;
}

// Where an image on white has ink, within [x0, x1) × [y0, y1) (the whole image by default).
struct Ink {
  int x0 = 1 << 30, y0 = 1 << 30, x1 = -1, y1 = -1;  // inclusive bounds of the inked pixels
  size_t count = 0;
  std::set<int> levels;  // distinct red levels of the inked pixels
  bool grey = true;      // every inked pixel has r = g = b
};

Ink ink_of(const Raster& image, int x0 = 0, int y0 = 0, int x1 = -1, int y1 = -1) {
  if (x1 < 0) x1 = image.width;
  if (y1 < 0) y1 = image.height;
  Ink ink;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) {
      if (white(image, x, y)) continue;
      const uint8_t* p = pixel(image, x, y);
      ++ink.count;
      ink.levels.insert(p[0]);
      ink.grey = ink.grey && p[0] == p[1] && p[1] == p[2];
      ink.x0 = std::min(ink.x0, x);
      ink.x1 = std::max(ink.x1, x);
      ink.y0 = std::min(ink.y0, y);
      ink.y1 = std::max(ink.y1, y);
    }
  return ink;
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

size_t codepoints(const std::string& utf8) {
  size_t n = 0;
  for (unsigned char c : utf8) n += (c & 0xC0) != 0x80;
  return n;
}

bool overlap(const Placement& a, const Placement& b) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

struct Points {
  std::vector<double> xy;
  std::vector<int32_t> labels;
};

// n points, label i % classes, spread over a disc.
Points points(int n, int classes) {
  Points p;
  for (int i = 0; i < n; ++i) {
    p.xy.push_back(std::cos(i * 0.9) * (1 + i % 7));
    p.xy.push_back(std::sin(i * 0.9) * (1 + i % 5));
    p.labels.push_back(i % classes);
  }
  return p;
}

}  // namespace

TEST_CASE("text drawn with cairo stays inside its measured box, antialiased in grey levels", "[figures]") {
  const std::string text = "t-SNE of μ: λ·e_y, β ± σ — Ankle boot 0123456789";
  const Font font{16, false};
  const double width = text_width(text, font);
  const LineMetrics line = line_metrics(font);
  REQUIRE(width > 0.4 * font.size * codepoints(text));  // a real font's advances, not a stub's
  REQUIRE(line.ascent > 0.6 * font.size);
  REQUIRE(line.descent > 0.1 * font.size);

  const int x = 20, baseline = 40;
  Canvas canvas = Canvas::image(static_cast<int>(width) + 60, 70, "text test");
  REQUIRE(draw_text(canvas.cr(), x, baseline, text, font, {0, 0, 0}) == Approx(width));
  Raster image = canvas.to_raster();
  Ink ink = ink_of(image);
  REQUIRE(ink.count > 1000);
  REQUIRE(ink.x0 >= x - 1);
  REQUIRE(ink.x0 <= x + 3);
  REQUIRE(ink.x1 <= x + width + 1);
  REQUIRE(ink.x1 >= x + width - 4);
  REQUIRE(ink.y0 >= baseline - line.ascent - 1);
  REQUIRE(ink.y1 <= baseline + line.descent + 1);
  // Antialiased: many intermediate levels between the ink and the paper, and grey ones only (no
  // subpixel colour fringes).
  REQUIRE(ink.levels.size() >= 32);
  REQUIRE(ink.grey);

  // Right-aligned and centred text end at and centre on x.
  Canvas aligned = Canvas::image(400, 80, "aligned text");
  draw_text(aligned.cr(), 380, 30, "right", font, {0, 0, 0}, Align::right);
  Raster a = aligned.to_raster();
  Ink right = ink_of(a);
  REQUIRE(right.x1 <= 381);
  REQUIRE(right.x0 >= 380 - text_width("right", font) - 1);
  draw_text(aligned.cr(), 200, 65, "middle", font, {0, 0, 0}, Align::centre);
  Ink middle = ink_of(aligned.to_raster(), 0, 40);
  REQUIRE(std::abs((middle.x0 + middle.x1) / 2.0 - 200) <= 2);
}

TEST_CASE("an image surface converts to a Raster: RGB24 as it is, ARGB32 composited over white", "[figures]") {
  cairo_surface_t* rgb = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 3, 2);
  cairo_t* cr = cairo_create(rgb);
  cairo_set_source_rgb(cr, 51 / 255.0, 102 / 255.0, 153 / 255.0);
  cairo_paint(cr);
  cairo_destroy(cr);
  Raster opaque = raster_from_surface(rgb, "rgb test");
  cairo_surface_destroy(rgb);
  REQUIRE(opaque.width == 3);
  REQUIRE(opaque.height == 2);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x)
      REQUIRE(std::vector<uint8_t>(pixel(opaque, x, y), pixel(opaque, x, y) + 3) == std::vector<uint8_t>{51, 102, 153});

  cairo_surface_t* argb = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 3, 1);
  cr = cairo_create(argb);
  cairo_set_source_rgba(cr, 1, 0, 0, 0.5);  // half-transparent red in pixel 0
  cairo_rectangle(cr, 0, 0, 1, 1);
  cairo_fill(cr);
  cairo_set_source_rgba(cr, 0, 0, 1, 1);  // opaque blue in pixel 1; pixel 2 stays transparent
  cairo_rectangle(cr, 1, 0, 1, 1);
  cairo_fill(cr);
  cairo_destroy(cr);
  Raster over_white = raster_from_surface(argb, "argb test");
  cairo_surface_destroy(argb);
  REQUIRE(pixel(over_white, 0, 0)[0] == 255);
  REQUIRE(std::abs(pixel(over_white, 0, 0)[1] - 127) <= 1);
  REQUIRE(std::abs(pixel(over_white, 0, 0)[2] - 127) <= 1);
  REQUIRE(std::vector<uint8_t>(pixel(over_white, 1, 0), pixel(over_white, 1, 0) + 3) == std::vector<uint8_t>{0, 0, 255});
  REQUIRE(white(over_white, 2, 0));
}

TEST_CASE("cairo failures become one-line errors that name the figure", "[figures]") {
  Canvas image = Canvas::image(10, 10, "broken figure");
  cairo_restore(image.cr());  // without a save: cairo records an error and ignores what follows
  const std::string message = test::error_of([&] { image.check(); });
  REQUIRE_THAT(message, Catch::StartsWith("broken figure: cairo: "));
  REQUIRE(message.find('\n') == std::string::npos);
  REQUIRE_THROWS_WITH(image.to_raster(), Catch::StartsWith("broken figure: cairo: "));
  REQUIRE_THROWS_WITH(image.finish_svg(), Catch::Contains("broken figure: not an SVG canvas"));

  Canvas svg = Canvas::svg(10, 10, "broken document");
  cairo_restore(svg.cr());
  REQUIRE_THROWS_WITH(svg.finish_svg(), Catch::StartsWith("broken document: cairo: "));

  REQUIRE_THROWS_WITH(Canvas::image(0, 5, "empty figure"), Catch::StartsWith("empty figure: image size 0x5"));
  REQUIRE_THROWS_WITH(Canvas::svg(5, 1e6, "huge document"), Catch::StartsWith("huge document: SVG size"));
}

TEST_CASE("the scatter's PNG and SVG have the stated size, one marker per point and the text's glyphs", "[figures]") {
  // 30, 20 and 10 points of three classes.
  Points p;
  for (int i = 0; i < 60; ++i) {
    p.xy.push_back(std::cos(i) * (i % 5));
    p.xy.push_back(std::sin(i) * (i % 7));
    p.labels.push_back(i < 30 ? 0 : i < 50 ? 1 : 2);
  }
  ScatterSpec spec;
  spec.title = "a <title> & \"quotes\" μλ";
  spec.subtitle = "60 points";
  spec.xy = &p.xy;
  spec.labels = &p.labels;
  spec.names = {"T-shirt/top", "Trouser", "A & B"};
  spec.plot_size = 200;

  const Size size = scatter_size(spec);
  REQUIRE(size.width >= spec.plot_size + 40 + text_width("T-shirt/top", Font{12, false}));
  REQUIRE(size.height >= spec.plot_size + 40);
  Raster png = scatter_raster(spec);
  REQUIRE(png.width == size.width);
  REQUIRE(png.height == size.height);
  Raster decoded = decode_png(encode_png(png), "scatter.png");
  REQUIRE(decoded.width == size.width);
  REQUIRE(decoded.height == size.height);
  REQUIRE(decoded.rgb == png.rgb);

  std::string svg = scatter_svg(spec);
  REQUIRE(svg.rfind("<?xml", 0) == 0);
  REQUIRE(test::markup_problem(svg, false) == "");
  REQUIRE_THAT(svg, Catch::Contains("width=\"" + std::to_string(size.width) + "px\"") &&
                        Catch::Contains("height=\"" + std::to_string(size.height) + "px\""));
  // cairo writes text as glyph outlines: one <symbol> per distinct glyph in <defs>, then one <use>
  // per character drawn (the space's outline is empty). What follows <defs> is the drawing: a
  // <path> per point, one for the frame, one per legend swatch.
  auto drawing = [](const std::string& doc) {
    size_t defs = doc.find("</defs>");
    return defs == std::string::npos ? doc : doc.substr(defs);
  };
  const std::string body = drawing(svg);
  REQUIRE(count_of(body, "<path") == 60 + 1 + 3);
  REQUIRE(count_of(svg, "<symbol") >= 10);
  std::string text = spec.title + spec.subtitle;
  for (const std::string& name : spec.names) text += name;
  size_t spaces = std::count(text.begin(), text.end(), ' ');
  size_t uses = count_of(body, "<use xlink:href=\"#glyph");
  REQUIRE(uses >= codepoints(text) - spaces);
  REQUIRE(uses <= codepoints(text));

  spec.legend = false;
  spec.title.clear();
  spec.subtitle.clear();
  const std::string bare = scatter_svg(spec);
  REQUIRE(test::markup_problem(bare, false) == "");
  REQUIRE(count_of(drawing(bare), "<path") == 60 + 1);
  REQUIRE(count_of(bare, "<use") == 0);
  REQUIRE(scatter_size(spec).width < size.width);  // no legend column
}

TEST_CASE("the scatter raster draws every class colour and keeps its text inside the figure", "[figures]") {
  Points p = points(300, 10);
  ScatterSpec spec;
  spec.title = "t-SNE of the test set's μ: a title long enough to be wider than the plot and its legend";
  spec.subtitle = "300 points, coloured by label";
  spec.xy = &p.xy;
  spec.labels = &p.labels;
  spec.names = class_names("fashion", 10);
  spec.plot_size = 200;
  Raster image = scatter_raster(spec);
  // The figure grew to hold its title: ink in the title's band reaches beyond the plot and the
  // legend, and a white margin surrounds everything (nothing is clipped at an edge).
  const Ink title = ink_of(image, 0, 0, image.width, 30);
  REQUIRE(title.x1 > spec.plot_size + 200);
  REQUIRE(title.levels.size() >= 16);  // antialiased text
  const int margin = 8;
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x)
      if (x < margin || y < margin || x >= image.width - margin || y >= image.height - margin) REQUIRE(white(image, x, y));
  // The legend's swatches are opaque: each class colour appears exactly.
  for (const Rgb& color : class_palette(10)) {
    bool found = false;
    for (size_t i = 0; i < image.rgb.size() && !found; i += 3)
      found = image.rgb[i] == color.r && image.rgb[i + 1] == color.g && image.rgb[i + 2] == color.b;
    REQUIRE(found);
  }
  // The longest class name ends inside the figure with room to spare.
  REQUIRE(image.width >= 20 + spec.plot_size + 24 + text_width("T-shirt/top", Font{15, false}) + 20);

  REQUIRE_THROWS_WITH([&] {
    std::vector<int32_t> bad = p.labels;
    bad[3] = 10;
    ScatterSpec s = spec;
    s.labels = &bad;
    scatter_raster(s);
  }(), Catch::Contains("label 10"));
}

TEST_CASE("image grid tiles keep their exact grey levels, beside their row labels", "[figures]") {
  const int rows = 2, columns = 3, image_rows = 5, image_cols = 4, scale = 3;
  // Values beyond [0, 1] too: clamped.
  std::vector<float> images = test::random_floats(rows * columns * image_rows * image_cols, 5, -0.1, 1.1);
  GridSpec spec;
  spec.title = "grid of tiles";
  spec.images = images.data();
  spec.rows = rows;
  spec.columns = columns;
  spec.image_rows = image_rows;
  spec.image_cols = image_cols;
  spec.scale = scale;
  spec.row_labels = {"first", "second row"};
  spec.gap_after_rows = {0};
  const GridLayout L = grid_layout(spec);
  Raster grid = image_grid(spec);
  REQUIRE(grid.width == L.width);
  REQUIRE(grid.height == L.height);
  REQUIRE(L.tile_width == image_cols * scale);
  REQUIRE(L.row_y[1] - L.row_y[0] > L.tile_height + L.gap);  // the extra gap after row 0
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < columns; ++c)
      for (int y = 0; y < L.tile_height; ++y)
        for (int x = 0; x < L.tile_width; ++x) {
          float v = images[((static_cast<size_t>(r) * columns + c) * image_rows + y / scale) * image_cols + x / scale];
          const int level = static_cast<int>(std::lround(std::min(std::max(v, 0.0f), 1.0f) * 255));
          const uint8_t* px = pixel(grid, L.tile_x(c) + x, L.row_y[r] + y);
          REQUIRE(px[0] == level);
          REQUIRE(px[1] == level);
          REQUIRE(px[2] == level);
        }
  // Between tiles only paper: nothing bleeds out of a tile.
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c + 1 < columns; ++c)
      for (int y = 0; y < L.tile_height; ++y)
        for (int x = L.tile_x(c) + L.tile_width; x < L.tile_x(c + 1); ++x) REQUIRE(white(grid, x, L.row_y[r] + y));
  // The labels sit left of the tiles, in their row's band; the title above the first row.
  for (int r = 0; r < rows; ++r) {
    Ink label = ink_of(grid, 0, L.row_y[r], L.tiles_x, L.row_y[r] + L.tile_height);
    REQUIRE(label.count > 20);
    REQUIRE(label.x1 < L.tiles_x - 4);
    REQUIRE(label.x0 >= 8);
  }
  REQUIRE(ink_of(grid, 0, 0, grid.width, L.row_y[0]).count > 50);

  spec.row_labels = {"only one"};
  REQUIRE_THROWS(grid_layout(spec));
}

TEST_CASE("the combined t-SNE figure's legend takes no panel cell of its own and overlaps nothing", "[figures]") {
  const Raster legend = legend_raster(class_names("fashion", 10));
  REQUIRE(legend.height > 10 * 15);
  REQUIRE(ink_of(legend).count > 500);
  for (int x = 0; x < legend.width; ++x) REQUIRE((white(legend, x, 0) && white(legend, x, legend.height - 1)));
  for (int panel_count = 1; panel_count <= 7; ++panel_count) {
    std::vector<Raster> panels;
    for (int i = 0; i < panel_count; ++i) panels.push_back(make_raster(460, 470, class_palette(10)[i]));
    std::vector<const Raster*> pointers;
    for (const Raster& p : panels) pointers.push_back(&p);
    const int columns = std::min(3, panel_count);
    const PanelLayout L = panel_layout(pointers, columns, &legend);
    // The layout it replaces: the legend as one more panel, three to a row.
    std::vector<const Raster*> with_cell = pointers;
    with_cell.push_back(&legend);
    const PanelLayout cell = panel_layout(with_cell, std::min<int>(3, static_cast<int>(with_cell.size())), nullptr);
    CAPTURE(panel_count, L.width, L.height, cell.width, cell.height);
    const long area = static_cast<long>(L.width) * L.height, cell_area = static_cast<long>(cell.width) * cell.height;
    REQUIRE(area <= cell_area);
    if (panel_count == 3 || panel_count == 6) {
      // A full last row: the legend column beside it, one row of panels fewer than before.
      REQUIRE(area < cell_area);
      REQUIRE(L.height < cell.height);
    }

    REQUIRE(L.legend.width == legend.width);
    REQUIRE(L.legend.x >= 0);
    REQUIRE(L.legend.y >= 0);
    REQUIRE(L.legend.x + L.legend.width <= L.width);
    REQUIRE(L.legend.y + L.legend.height <= L.height);
    for (const Placement& p : L.panels) REQUIRE_FALSE(overlap(p, L.legend));
    for (size_t i = 0; i < L.panels.size(); ++i)
      for (size_t j = i + 1; j < L.panels.size(); ++j) REQUIRE_FALSE(overlap(L.panels[i], L.panels[j]));
    int right_of_panels = 0;
    for (const Placement& p : L.panels) right_of_panels = std::max(right_of_panels, p.x + p.width);
    if (L.legend.x >= right_of_panels) {  // in the column beside: vertically centred on the panels
      const int above = L.legend.y, below = L.height - L.legend.y - L.legend.height;
      REQUIRE(std::abs(above - below) <= 1);
    }

    Raster composed = compose_panels_with_legend(pointers, columns, legend);
    REQUIRE(composed.width == L.width);
    REQUIRE(composed.height == L.height);
    for (int y = 0; y < legend.height; ++y)
      for (int x = 0; x < legend.width; ++x) {
        const uint8_t* want = pixel(legend, x, y);
        const uint8_t* got = pixel(composed, L.legend.x + x, L.legend.y + y);
        REQUIRE((got[0] == want[0] && got[1] == want[1] && got[2] == want[2]));
      }
    for (size_t i = 0; i < panels.size(); ++i) {
      const Placement& p = L.panels[i];
      for (auto [x, y] : {std::pair<int, int>{p.x, p.y}, {p.x + p.width - 1, p.y + p.height - 1}})
        REQUIRE(pixel(composed, x, y)[0] == panels[i].rgb[0]);
    }
  }
}

TEST_CASE("the centre-distance heat map is well-formed SVG: a cell per pair, labels escaped, a colour scale",
          "[figures]") {
  const int n = 3;
  const std::vector<double> d = {0, 2, 7, 2, 0, 4.25, 7, 4.25, 0};
  const std::string svg = heatmap_svg(d, n, {"a<b", "T-shirt/top", "c&d"}, "Distances \"between\"");
  REQUIRE(svg.rfind("<?xml", 0) == 0);
  REQUIRE(test::markup_problem(svg, false) == "");
  // n×n cells + the background + 20 steps of the colour bar
  size_t rects = 0;
  for (size_t at = svg.find("<rect"); at != std::string::npos; at = svg.find("<rect", at + 1)) ++rects;
  REQUIRE(rects == static_cast<size_t>(n * n + 1 + 20));
  REQUIRE_THAT(svg, Catch::Contains("a&lt;b") && Catch::Contains("c&amp;d") &&
                        Catch::Contains("Distances &quot;between&quot;"));
  // every distance with one decimal; the scale runs from the smallest to the largest off-diagonal one
  REQUIRE_THAT(svg, Catch::Contains(">2.0</text>") && Catch::Contains(">4.2</text>") &&
                        Catch::Contains(">7.0</text>") && Catch::Contains(">distance</text>"));
  REQUIRE_THAT(svg, Catch::Contains(">3.2</text>") && Catch::Contains(">5.8</text>"));  // 2 + 5·k/4
  // equal distances (Lambda-Hot's fixed centres): one colour, one value on the scale
  const std::string equal = heatmap_svg({0, 5, 5, 0}, 2, {"0", "1"}, "equal");
  REQUIRE(test::markup_problem(equal, false) == "");
  REQUIRE_THAT(equal, !Catch::Contains(">6.0</text>"));
}

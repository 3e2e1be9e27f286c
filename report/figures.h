// The report's figures, drawn from numbers: the t-SNE scatter (PNG raster and SVG, the paper's
// Figures 2–3), grids of images with a label per row (Figures 4–7), composites of finished
// figures, and the training curves (SVG). All but the curves are drawn with cairo
// (report/canvas.h): the scatter's PNG and SVG come from one drawing function, on an image
// surface or an SVG surface. The curves stay hand-written SVG with <text> elements, because the
// page inlines them and cairo's SVG output names its glyphs with ids that would clash between
// two documents in one page.
#pragma once
#include <string>
#include <vector>

#include "report/raster.h"

namespace cvae {

// Matplotlib's "tab10" for up to ten classes, then evenly spaced hues.
std::vector<Rgb> class_palette(int classes);
std::string css_color(Rgb color);  // "#1f77b4"

struct ScatterSpec {
  std::string title, subtitle;
  const std::vector<double>* xy = nullptr;      // [n, 2]
  const std::vector<int32_t>* labels = nullptr;  // [n], in [0, names.size())
  std::vector<std::string> names;
  int plot_size = 800;   // pixels of the square plot area
  bool legend = true;
  uint64_t seed = 1;     // drawing order (shuffled, so that no class hides the others)
};

struct Size {
  int width = 0, height = 0;
};

// The figure's size in pixels: the PNG's, and the SVG document's in px.
Size scatter_size(const ScatterSpec& spec);
Raster scatter_raster(const ScatterSpec& spec);
std::string scatter_svg(const ScatterSpec& spec);

struct GridSpec {
  std::string title;
  const float* images = nullptr;  // rows·columns images of image_rows×image_cols values in [0, 1]
  int rows = 0, columns = 0;
  int image_rows = 28, image_cols = 28;
  int scale = 2;                        // each pixel a scale×scale block
  std::vector<std::string> row_labels;  // one per row, or empty
  std::vector<int> gap_after_rows;      // an extra gap below these rows (pairs of rows)
};

// Where image_grid puts things: tiles sit on whole pixels, so each keeps its exact grey levels.
struct GridLayout {
  int width = 0, height = 0;
  int tiles_x = 0;          // left edge of the first column of tiles
  std::vector<int> row_y;   // top edge of each row of tiles
  int tile_width = 0, tile_height = 0, gap = 0;
  int tile_x(int column) const { return tiles_x + column * (tile_width + gap); }
};

GridLayout grid_layout(const GridSpec& spec);
Raster image_grid(const GridSpec& spec);

// A legend (swatch and name per class) as its own small raster, for composites.
Raster legend_raster(const std::vector<std::string>& names);

struct Placement {
  int x = 0, y = 0, width = 0, height = 0;
};

// Panels side by side (columns per row), each top-left in its cell, on white with a gap between.
// A legend goes into the last row's first empty cell where there is one (it costs no room there),
// else into a column right of the panels, vertically centred on them.
struct PanelLayout {
  int width = 0, height = 0;
  std::vector<Placement> panels;
  Placement legend;  // width 0 without one
};

PanelLayout panel_layout(const std::vector<const Raster*>& panels, int columns, const Raster* legend,
                         int gap = 16);
Raster compose_panels(const std::vector<const Raster*>& panels, int columns, int gap = 16);
Raster compose_panels_with_legend(const std::vector<const Raster*>& panels, int columns,
                                  const Raster& legend, int gap = 16);

struct CurveSeries {
  std::string name;
  std::vector<double> values;  // one per epoch, epochs 1..n
  Rgb color;
};

// Loss parts per epoch as a line chart (inline SVG, no XML declaration).
std::string curves_svg(const std::string& title, const std::vector<CurveSeries>& series,
                       int width = 640, int height = 300);

}  // namespace cvae

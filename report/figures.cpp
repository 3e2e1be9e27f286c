#include "report/figures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/data/shuffle.h"
#include "engine/error.h"
#include "engine/io/svg.h"
#include "report/canvas.h"

namespace cvae {

namespace {

constexpr Rgb kInk{34, 34, 34};
constexpr Rgb kGrey{110, 110, 110};
constexpr Rgb kFrame{200, 200, 200};

constexpr Font kTitleFont{17, true};
constexpr Font kSubtitleFont{14, false};
constexpr Font kLegendFont{15, false};
constexpr Font kGridTitleFont{15, true};
constexpr Font kRowLabelFont{14, false};

// Points are a little transparent, so that where classes overlap both show and dense cores read
// darker.
constexpr double kPointAlpha = 0.8;

constexpr double kFullTurn = 6.283185307179586;  // radians

int ceil_px(double v) { return static_cast<int>(std::ceil(v)); }

// The baseline that centres a line of `font` vertically on `middle`.
double centred_baseline(double middle, Font font) {
  LineMetrics m = line_metrics(font);
  return middle + (m.ascent - m.descent) / 2;
}

// A legend: one row per class, a disc in the class's colour and the name beside it.
struct LegendLayout {
  double row = 0, radius = 0, text_x = 0;
  Size size;
};

LegendLayout legend_layout(const std::vector<std::string>& names) {
  LegendLayout L;
  L.row = std::round(kLegendFont.size * 1.6);
  L.radius = 0.35 * kLegendFont.size;
  L.text_x = 2 * L.radius + 8;
  double widest = 0;
  for (const std::string& name : names) widest = std::max(widest, text_width(name, kLegendFont));
  L.size = {ceil_px(L.text_x + widest) + 1, static_cast<int>(L.row * names.size())};
  return L;
}

void draw_legend(cairo_t* cr, double x, double y, const std::vector<std::string>& names) {
  const LegendLayout L = legend_layout(names);
  const std::vector<Rgb> colors = class_palette(static_cast<int>(names.size()));
  for (size_t c = 0; c < names.size(); ++c) {
    const double middle = y + (c + 0.5) * L.row;
    set_color(cr, colors[c]);
    cairo_new_path(cr);
    cairo_arc(cr, x + L.radius, middle, L.radius, 0, kFullTurn);
    cairo_fill(cr);
    draw_text(cr, x + L.text_x, centred_baseline(middle, kLegendFont), names[c], kLegendFont, kInk);
  }
}

// Where the scatter's points land: the embedding's bounding box, padded, scaled into the square.
struct ScatterFrame {
  double cx = 0, cy = 0, span = 1;
  int x0 = 0, y0 = 0, size = 0;
  double px(double x) const { return x0 + size / 2.0 + (x - cx) / span * size; }
  double py(double y) const { return y0 + size / 2.0 - (y - cy) / span * size; }
};

struct ScatterLayout {
  Size size;
  ScatterFrame frame;
  double title_baseline = 0, subtitle_baseline = 0;
  int legend_x = 0, legend_y = 0;
  double radius = 2;
};

void check_scatter(const ScatterSpec& spec) {
  if (!spec.xy || !spec.labels || spec.xy->size() != 2 * spec.labels->size())
    fail("scatter: coordinates and labels do not match");
  if (spec.names.empty()) fail("scatter: no class names");
  for (int32_t label : *spec.labels)
    if (label < 0 || label >= static_cast<int>(spec.names.size()))
      fail("scatter: label " + std::to_string(label) + " has no name");
  if (spec.plot_size < 50) fail("scatter: plot_size too small");
}

ScatterLayout scatter_layout(const ScatterSpec& spec) {
  check_scatter(spec);
  ScatterLayout L;
  const std::vector<double>& xy = *spec.xy;
  const size_t n = xy.size() / 2;
  double lo_x = 0, hi_x = 0, lo_y = 0, hi_y = 0;
  for (size_t i = 0; i < n; ++i) {
    if (i == 0 || xy[2 * i] < lo_x) lo_x = xy[2 * i];
    if (i == 0 || xy[2 * i] > hi_x) hi_x = xy[2 * i];
    if (i == 0 || xy[2 * i + 1] < lo_y) lo_y = xy[2 * i + 1];
    if (i == 0 || xy[2 * i + 1] > hi_y) hi_y = xy[2 * i + 1];
  }
  L.frame.cx = (lo_x + hi_x) / 2;
  L.frame.cy = (lo_y + hi_y) / 2;
  L.frame.span = std::max(std::max(hi_x - lo_x, hi_y - lo_y) * 1.05, 1e-9);
  L.frame.size = spec.plot_size;
  const int margin = 20;
  double y = margin;
  if (!spec.title.empty()) {
    LineMetrics m = line_metrics(kTitleFont);
    L.title_baseline = y + m.ascent;
    y += m.height() + 4;
  }
  if (!spec.subtitle.empty()) {
    LineMetrics m = line_metrics(kSubtitleFont);
    L.subtitle_baseline = y + m.ascent;
    y += m.height() + 4;
  }
  if (y > margin) y += 6;
  L.frame.x0 = margin;
  L.frame.y0 = ceil_px(y);
  L.legend_x = L.frame.x0 + spec.plot_size + 24;
  L.legend_y = L.frame.y0 + 8;
  const Size legend = legend_layout(spec.names).size;
  const double title_width = std::max(text_width(spec.title, kTitleFont), text_width(spec.subtitle, kSubtitleFont));
  L.size.width = std::max({L.frame.x0 + spec.plot_size + margin,
                           spec.legend ? L.legend_x + legend.width + margin : 0,
                           L.frame.x0 + ceil_px(title_width) + margin});
  L.size.height = std::max(L.frame.y0 + spec.plot_size + margin, spec.legend ? L.legend_y + legend.height + margin : 0);
  // Points shrink as they crowd: about 1/3 of the mean spacing, within [1.2, 4] pixels.
  L.radius = std::min(4.0, std::max(1.2, 0.35 * spec.plot_size / std::sqrt(std::max<double>(n, 1))));
  return L;
}

std::vector<int32_t> drawing_order(size_t n, uint64_t seed) {
  return shuffled_order(static_cast<int64_t>(n), seed, 0);
}

// "Nice" tick step for a range: 1, 2 or 5 × 10^k giving about `count` ticks.
double nice_step(double range, int count) {
  double raw = range / std::max(count, 1);
  double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double residual = raw / magnitude;
  double step = residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 5 ? 5 : 10;
  return step * magnitude;
}

std::string format_tick(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", std::fabs(v) < 1e-12 ? 0.0 : v);
  return text;
}

// The scatter, on an image surface (the PNG) or an SVG surface alike: one drawing for both.
void draw_scatter(cairo_t* cr, const ScatterSpec& spec, const ScatterLayout& L) {
  if (!spec.title.empty()) draw_text(cr, L.frame.x0, L.title_baseline, spec.title, kTitleFont, kInk);
  if (!spec.subtitle.empty()) draw_text(cr, L.frame.x0, L.subtitle_baseline, spec.subtitle, kSubtitleFont, kGrey);
  const ScatterFrame& F = L.frame;
  // A one-pixel frame just outside the plot square, on pixel centres so that it stays sharp.
  set_color(cr, kFrame);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, F.x0 - 0.5, F.y0 - 0.5, F.size + 1, F.size + 1);
  cairo_stroke(cr);
  const std::vector<Rgb> colors = class_palette(static_cast<int>(spec.names.size()));
  const std::vector<double>& xy = *spec.xy;
  for (int32_t i : drawing_order(spec.labels->size(), spec.seed)) {
    set_color(cr, colors[(*spec.labels)[i]], kPointAlpha);
    cairo_new_path(cr);
    cairo_arc(cr, F.px(xy[2 * i]), F.py(xy[2 * i + 1]), L.radius, 0, kFullTurn);
    cairo_fill(cr);
  }
  if (spec.legend) draw_legend(cr, L.legend_x, L.legend_y, spec.names);
}

}  // namespace

std::vector<Rgb> class_palette(int classes) {
  static const Rgb tab10[10] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                                {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127},
                                {188, 189, 34},  {23, 190, 207}};
  std::vector<Rgb> colors;
  for (int c = 0; c < classes; ++c) {
    if (classes <= 10) {
      colors.push_back(tab10[c]);
      continue;
    }
    // Evenly spaced hues at fixed saturation and value (HSV → RGB).
    double h = 6.0 * c / classes, s = 0.75, v = 0.85;
    int sector = static_cast<int>(h) % 6;
    double f = h - std::floor(h), p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
    double rgb[6][3] = {{v, t, p}, {q, v, p}, {p, v, t}, {p, q, v}, {t, p, v}, {v, p, q}};
    colors.push_back({static_cast<uint8_t>(255 * rgb[sector][0]), static_cast<uint8_t>(255 * rgb[sector][1]),
                      static_cast<uint8_t>(255 * rgb[sector][2])});
  }
  return colors;
}

std::string css_color(Rgb color) {
  char text[8];
  std::snprintf(text, sizeof text, "#%02x%02x%02x", color.r, color.g, color.b);
  return text;
}

Size scatter_size(const ScatterSpec& spec) { return scatter_layout(spec).size; }

Raster scatter_raster(const ScatterSpec& spec) {
  const ScatterLayout L = scatter_layout(spec);
  Canvas canvas = Canvas::image(L.size.width, L.size.height, "t-SNE scatter (PNG)");
  draw_scatter(canvas.cr(), spec, L);
  return canvas.to_raster();
}

std::string scatter_svg(const ScatterSpec& spec) {
  const ScatterLayout L = scatter_layout(spec);
  Canvas canvas = Canvas::svg(L.size.width, L.size.height, "t-SNE scatter (SVG)");
  draw_scatter(canvas.cr(), spec, L);
  return canvas.finish_svg();
}

Raster legend_raster(const std::vector<std::string>& names) {
  if (names.empty()) fail("legend: no class names");
  const int pad = 4;  // room for the discs' and glyphs' antialiased edges
  const Size size = legend_layout(names).size;
  Canvas canvas = Canvas::image(size.width + 2 * pad, size.height + 2 * pad, "legend");
  draw_legend(canvas.cr(), pad, pad, names);
  return canvas.to_raster();
}

GridLayout grid_layout(const GridSpec& spec) {
  if (!spec.images || spec.rows < 1 || spec.columns < 1 || spec.image_rows < 1 || spec.image_cols < 1 ||
      spec.scale < 1)
    fail("image grid: nothing to draw");
  if (!spec.row_labels.empty() && static_cast<int>(spec.row_labels.size()) != spec.rows)
    fail("image grid: one label per row needed");
  const int margin = 12, pair_gap = 10, label_gap = 10;
  GridLayout L;
  L.gap = 2;
  L.tile_width = spec.image_cols * spec.scale;
  L.tile_height = spec.image_rows * spec.scale;
  double label_width = 0;
  for (const std::string& label : spec.row_labels) label_width = std::max(label_width, text_width(label, kRowLabelFont));
  L.tiles_x = margin + (label_width > 0 ? ceil_px(label_width) + label_gap : 0);
  int y = spec.title.empty() ? margin : margin + ceil_px(line_metrics(kGridTitleFont).height()) + 8;
  for (int r = 0; r < spec.rows; ++r) {
    L.row_y.push_back(y);
    y += L.tile_height + L.gap;
    if (std::find(spec.gap_after_rows.begin(), spec.gap_after_rows.end(), r) != spec.gap_after_rows.end())
      y += pair_gap;
  }
  L.width = std::max(L.tile_x(spec.columns) - L.gap + margin,
                     2 * margin + ceil_px(text_width(spec.title, kGridTitleFont)));
  L.height = y - L.gap + margin;
  return L;
}

Raster image_grid(const GridSpec& spec) {
  const GridLayout L = grid_layout(spec);
  Canvas canvas = Canvas::image(L.width, L.height, "image grid");
  cairo_t* cr = canvas.cr();
  if (!spec.title.empty())
    draw_text(cr, 12, 12 + line_metrics(kGridTitleFont).ascent, spec.title, kGridTitleFont, kInk);
  const int pixels = spec.image_rows * spec.image_cols;
  for (int r = 0; r < spec.rows; ++r) {
    if (!spec.row_labels.empty())
      draw_text(cr, L.tiles_x - 10, centred_baseline(L.row_y[r] + L.tile_height / 2.0, kRowLabelFont),
                spec.row_labels[r], kRowLabelFont, kInk, Align::right);
    for (int c = 0; c < spec.columns; ++c)
      draw_gray_tile(cr, L.tile_x(c), L.row_y[r],
                     spec.images + (static_cast<size_t>(r) * spec.columns + c) * pixels,
                     spec.image_rows, spec.image_cols, spec.scale);
  }
  return canvas.to_raster();
}

PanelLayout panel_layout(const std::vector<const Raster*>& panels, int columns, const Raster* legend, int gap) {
  if (panels.empty() || columns < 1) fail("compose: no panels");
  const int rows = (static_cast<int>(panels.size()) + columns - 1) / columns;
  std::vector<int> col_w(columns, 0), row_h(rows, 0);
  for (size_t i = 0; i < panels.size(); ++i) {
    col_w[i % columns] = std::max(col_w[i % columns], panels[i]->width);
    row_h[i / columns] = std::max(row_h[i / columns], panels[i]->height);
  }
  PanelLayout L;
  int grid_width = gap, grid_height = gap;
  for (int w : col_w) grid_width += w + gap;
  for (int h : row_h) grid_height += h + gap;
  int y = gap;
  for (int r = 0; r < rows; ++r) {
    int x = gap;
    for (int c = 0; c < columns; ++c) {
      size_t i = static_cast<size_t>(r) * columns + c;
      if (i < panels.size()) L.panels.push_back({x, y, panels[i]->width, panels[i]->height});
      x += col_w[c] + gap;
    }
    y += row_h[r] + gap;
  }
  L.width = grid_width;
  L.height = grid_height;
  if (!legend) return L;
  // A last row with an empty cell has room already: the legend goes into the first empty cell,
  // centred in it, and the figure keeps the grid's size.
  const int last_count = static_cast<int>(panels.size()) - (rows - 1) * columns;
  if (last_count < columns && legend->width <= col_w[last_count] && legend->height <= row_h[rows - 1]) {
    int x = gap;
    for (int c = 0; c < last_count; ++c) x += col_w[c] + gap;
    const int top = grid_height - gap - row_h[rows - 1];
    L.legend = {x + (col_w[last_count] - legend->width) / 2, top + (row_h[rows - 1] - legend->height) / 2,
                legend->width, legend->height};
    return L;
  }
  // Otherwise a column right of the grid, vertically centred on it.
  L.width = grid_width + legend->width + gap;
  L.height = std::max(grid_height, legend->height + 2 * gap);
  L.legend = {grid_width, (L.height - legend->height) / 2, legend->width, legend->height};
  return L;
}

Raster compose_panels(const std::vector<const Raster*>& panels, int columns, int gap) {
  const PanelLayout L = panel_layout(panels, columns, nullptr, gap);
  Raster image = make_raster(L.width, L.height, {255, 255, 255});
  for (size_t i = 0; i < panels.size(); ++i) blit(image, *panels[i], L.panels[i].x, L.panels[i].y);
  return image;
}

Raster compose_panels_with_legend(const std::vector<const Raster*>& panels, int columns, const Raster& legend,
                                  int gap) {
  const PanelLayout L = panel_layout(panels, columns, &legend, gap);
  Raster image = make_raster(L.width, L.height, {255, 255, 255});
  for (size_t i = 0; i < panels.size(); ++i) blit(image, *panels[i], L.panels[i].x, L.panels[i].y);
  blit(image, legend, L.legend.x, L.legend.y);
  return image;
}

std::string curves_svg(const std::string& title, const std::vector<CurveSeries>& series, int width,
                       int height) {
  const double left = 64, right = 120, top = 34, bottom = 44;
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  size_t epochs = 0;
  double top_value = 0;
  for (const CurveSeries& s : series) {
    epochs = std::max(epochs, s.values.size());
    for (double v : s.values)
      if (std::isfinite(v)) top_value = std::max(top_value, v);
  }
  SvgBuilder svg(width, height);
  svg.rect(0, 0, width, height, "#ffffff");
  svg.text(left, 20, title, 15, "start", "fill=\"#222222\"");
  if (epochs == 0) {
    svg.text(width / 2.0, height / 2.0, "no epochs logged", 14, "middle", "fill=\"#6e6e6e\"");
    return svg.finish(false);
  }
  const double step = nice_step(top_value > 0 ? top_value : 1, 5);
  const double y_max = std::max(step, std::ceil(top_value * 1.02 / step) * step);
  auto px = [&](double epoch) {
    return epochs == 1 ? left + plot_w / 2 : left + (epoch - 1) / (epochs - 1) * plot_w;
  };
  auto py = [&](double v) { return top + plot_h - v / y_max * plot_h; };
  for (double v = 0; v <= y_max + step / 2; v += step) {
    svg.line(left, py(v), left + plot_w, py(v), "#e4e4e4");
    svg.text(left - 8, py(v) + 4, format_tick(v), 12, "end", "fill=\"#444444\"");
  }
  const double x_step = std::max(1.0, nice_step(static_cast<double>(epochs), 8));
  for (double e = 1; e <= epochs + 1e-9; e += x_step)
    svg.text(px(e), top + plot_h + 18, format_tick(e), 12, "middle", "fill=\"#444444\"");
  svg.line(left, top + plot_h, left + plot_w, top + plot_h, "#888888");
  svg.line(left, top, left, top + plot_h, "#888888");
  svg.text(left + plot_w / 2, height - 6, "epoch", 13, "middle", "fill=\"#444444\"");
  svg.text(16, top + plot_h / 2, "nats per image", 13, "middle",
           "fill=\"#444444\" transform=\"rotate(-90 16 " + svg_number(top + plot_h / 2) + ")\"");
  for (size_t k = 0; k < series.size(); ++k) {
    const CurveSeries& s = series[k];
    std::vector<double> xs, ys;
    for (size_t e = 0; e < s.values.size(); ++e) {
      if (!std::isfinite(s.values[e])) continue;
      xs.push_back(px(static_cast<double>(e + 1)));
      ys.push_back(py(s.values[e]));
    }
    const std::string color = css_color(s.color);
    if (xs.size() > 1) svg.polyline(xs.data(), ys.data(), static_cast<int>(xs.size()), color, 2);
    for (size_t i = 0; i < xs.size(); ++i) svg.circle(xs[i], ys[i], 2.5, color);
    const double ly = top + 10 + 22.0 * k;
    svg.line(left + plot_w + 14, ly, left + plot_w + 34, ly, color, 2.5);
    svg.text(left + plot_w + 40, ly + 4, s.name, 13, "start", "fill=\"#222222\"");
  }
  return svg.finish(false);
}

}  // namespace cvae

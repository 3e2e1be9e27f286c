#include "report/figures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/error.h"
#include "engine/io/svg.h"
#include "engine/data/shuffle.h"

namespace cvae {

namespace {

constexpr Rgb kWhite{255, 255, 255};
constexpr Rgb kInk{34, 34, 34};
constexpr Rgb kGrey{110, 110, 110};
constexpr Rgb kFrame{200, 200, 200};
constexpr int kTextScale = 2;
constexpr int kLine = kGlyphHeight * kTextScale;  // pixels of one line of text

// Where the scatter's points land: the embedding's bounding box, padded, scaled into the square.
struct ScatterFrame {
  double cx = 0, cy = 0, span = 1;
  int x0 = 0, y0 = 0, size = 0;
  double px(double x) const { return x0 + size / 2.0 + (x - cx) / span * size; }
  double py(double y) const { return y0 + size / 2.0 - (y - cy) / span * size; }
};

struct ScatterLayout {
  int width = 0, height = 0;
  ScatterFrame frame;
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

int legend_width(const std::vector<std::string>& names, int scale) {
  int widest = 0;
  for (const std::string& name : names) widest = std::max(widest, text_width(name, scale));
  return 11 * scale + widest;
}

ScatterLayout scatter_layout(const ScatterSpec& spec) {
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
  L.frame.x0 = 20;
  int top = 14;
  if (!spec.title.empty()) top += kLine + 8;
  if (!spec.subtitle.empty()) top += kLine + 8;
  L.frame.y0 = top + 6;
  L.legend_x = L.frame.x0 + spec.plot_size + 24;
  L.legend_y = L.frame.y0 + 8;
  int title_width = std::max(text_width(spec.title, kTextScale), text_width(spec.subtitle, kTextScale));
  L.width = std::max(L.legend_x + (spec.legend ? legend_width(spec.names, kTextScale) + 20 : -4),
                     L.frame.x0 + title_width + 20);
  int legend_bottom = spec.legend ? L.legend_y + static_cast<int>(spec.names.size()) * (kLine + 10) : 0;
  L.height = std::max(L.frame.y0 + spec.plot_size + 20, legend_bottom + 20);
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

}  // namespace

std::vector<std::string> label_names(const std::string& dataset, int classes) {
  static const std::vector<std::string> fashion = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                                   "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                                                   "Ankle boot"};
  std::vector<std::string> names;
  for (int c = 0; c < classes; ++c)
    names.push_back(dataset == "fashion" && c < 10 ? fashion[c] : std::to_string(c));
  return names;
}

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

Raster scatter_raster(const ScatterSpec& spec) {
  check_scatter(spec);
  const ScatterLayout L = scatter_layout(spec);
  const std::vector<Rgb> colors = class_palette(static_cast<int>(spec.names.size()));
  Raster image = make_raster(L.width, L.height, kWhite);
  int y = 14;
  if (!spec.title.empty()) {
    draw_text(image, L.frame.x0, y, spec.title, kInk, kTextScale);
    y += kLine + 8;
  }
  if (!spec.subtitle.empty()) draw_text(image, L.frame.x0, y, spec.subtitle, kGrey, kTextScale);
  const ScatterFrame& F = L.frame;
  fill_rect(image, F.x0 - 1, F.y0 - 1, F.size + 2, 1, kFrame);
  fill_rect(image, F.x0 - 1, F.y0 + F.size, F.size + 2, 1, kFrame);
  fill_rect(image, F.x0 - 1, F.y0 - 1, 1, F.size + 2, kFrame);
  fill_rect(image, F.x0 + F.size, F.y0 - 1, 1, F.size + 2, kFrame);
  const std::vector<double>& xy = *spec.xy;
  for (int32_t i : drawing_order(spec.labels->size(), spec.seed))
    // Opaque, hard-edged points: few colours, so the PNG is a small palette image.
    fill_disc(image, F.px(xy[2 * i]), F.py(xy[2 * i + 1]), L.radius, colors[(*spec.labels)[i]], 1.0f, false);
  if (spec.legend) {
    Raster legend = legend_raster(spec.names, kTextScale);
    blit(image, legend, L.legend_x, L.legend_y);
  }
  return image;
}

std::string scatter_svg(const ScatterSpec& spec) {
  check_scatter(spec);
  const ScatterLayout L = scatter_layout(spec);
  const std::vector<Rgb> colors = class_palette(static_cast<int>(spec.names.size()));
  SvgBuilder svg(L.width, L.height);
  svg.rect(0, 0, L.width, L.height, "#ffffff");
  double y = 14;
  if (!spec.title.empty()) {
    svg.text(L.frame.x0, y + 15, spec.title, 18, "start", "fill=\"#222222\"");
    y += kLine + 8;
  }
  if (!spec.subtitle.empty()) svg.text(L.frame.x0, y + 15, spec.subtitle, 15, "start", "fill=\"#6e6e6e\"");
  const ScatterFrame& F = L.frame;
  svg.rect(F.x0 - 0.5, F.y0 - 0.5, F.size + 1, F.size + 1, "none", "stroke=\"#c8c8c8\"");
  svg.raw("<g fill-opacity=\"0.8\">\n");
  const std::vector<double>& xy = *spec.xy;
  for (int32_t i : drawing_order(spec.labels->size(), spec.seed))
    svg.circle(F.px(xy[2 * i]), F.py(xy[2 * i + 1]), L.radius, css_color(colors[(*spec.labels)[i]]));
  svg.raw("</g>\n");
  if (spec.legend) {
    for (size_t c = 0; c < spec.names.size(); ++c) {
      double row = L.legend_y + c * (kLine + 10);
      svg.circle(L.legend_x + 7, row + 9, 7, css_color(colors[c]));
      svg.text(L.legend_x + 22, row + 15, spec.names[c], 16, "start", "fill=\"#222222\"");
    }
  }
  return svg.finish(true);
}

Raster legend_raster(const std::vector<std::string>& names, int scale) {
  const std::vector<Rgb> colors = class_palette(static_cast<int>(names.size()));
  const int line = kGlyphHeight * scale;
  Raster legend = make_raster(legend_width(names, scale) + 4,
                              static_cast<int>(names.size()) * (line + 5 * scale), kWhite);
  for (size_t c = 0; c < names.size(); ++c) {
    int row = static_cast<int>(c) * (line + 5 * scale);
    fill_disc(legend, 3.5 * scale, row + 4.5 * scale, 3.5 * scale, colors[c], 1.0f);
    draw_text(legend, 11 * scale, row, names[c], kInk, scale);
  }
  return legend;
}

Raster image_grid(const GridSpec& spec) {
  if (!spec.images || spec.rows < 1 || spec.columns < 1 || spec.image_rows < 1 || spec.image_cols < 1 ||
      spec.scale < 1)
    fail("image grid: nothing to draw");
  if (!spec.row_labels.empty() && static_cast<int>(spec.row_labels.size()) != spec.rows)
    fail("image grid: one label per row needed");
  const int gap = 2, pair_gap = 10;
  const int tile_w = spec.image_cols * spec.scale, tile_h = spec.image_rows * spec.scale;
  int label_w = 0;
  for (const std::string& label : spec.row_labels) label_w = std::max(label_w, text_width(label, kTextScale));
  if (label_w > 0) label_w += 12;
  const int x0 = 12 + label_w;
  const int y0 = spec.title.empty() ? 12 : 12 + kLine + 12;
  std::vector<int> row_y(spec.rows);
  int y = y0;
  for (int r = 0; r < spec.rows; ++r) {
    row_y[r] = y;
    y += tile_h + gap;
    if (std::find(spec.gap_after_rows.begin(), spec.gap_after_rows.end(), r) != spec.gap_after_rows.end())
      y += pair_gap;
  }
  const int width = std::max(x0 + spec.columns * (tile_w + gap) + 10, 24 + text_width(spec.title, kTextScale));
  const int height = y + 10;
  Raster image = make_raster(width, height, kWhite);
  if (!spec.title.empty()) draw_text(image, 12, 12, spec.title, kInk, kTextScale);
  const int pixels = spec.image_rows * spec.image_cols;
  for (int r = 0; r < spec.rows; ++r) {
    if (!spec.row_labels.empty())
      draw_text(image, 12 + label_w - 12 - text_width(spec.row_labels[r], kTextScale),
                row_y[r] + (tile_h - kLine) / 2, spec.row_labels[r], kInk, kTextScale);
    for (int c = 0; c < spec.columns; ++c)
      draw_gray_tile(image, x0 + c * (tile_w + gap), row_y[r],
                     spec.images + (static_cast<size_t>(r) * spec.columns + c) * pixels,
                     spec.image_rows, spec.image_cols, spec.scale);
  }
  return image;
}

Raster compose_panels(const std::vector<const Raster*>& panels, int columns, int gap) {
  if (panels.empty() || columns < 1) fail("compose: no panels");
  const int rows = (static_cast<int>(panels.size()) + columns - 1) / columns;
  std::vector<int> col_w(columns, 0), row_h(rows, 0);
  for (size_t i = 0; i < panels.size(); ++i) {
    col_w[i % columns] = std::max(col_w[i % columns], panels[i]->width);
    row_h[i / columns] = std::max(row_h[i / columns], panels[i]->height);
  }
  int width = gap, height = gap;
  for (int w : col_w) width += w + gap;
  for (int h : row_h) height += h + gap;
  Raster image = make_raster(width, height, kWhite);
  int y = gap;
  for (int r = 0; r < rows; ++r) {
    int x = gap;
    for (int c = 0; c < columns; ++c) {
      size_t i = static_cast<size_t>(r) * columns + c;
      if (i < panels.size()) blit(image, *panels[i], x, y);
      x += col_w[c] + gap;
    }
    y += row_h[r] + gap;
  }
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

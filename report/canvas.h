// Drawing with cairo: a surface and its context owned together — an RGB image in memory, or an SVG
// document collected into a string — plus the few helpers the figures share: text in DejaVu Sans
// through cairo's own text API, colours, grey-scale tiles scaled without smoothing, and the
// conversion of an image surface into a Raster (which the PNG writer and the composites take).
//
// Every failure cairo reports (it keeps the first error in the context and the surface, and
// ignores drawing after it) is turned into cvae::Error naming the figure, by check(), to_raster()
// and finish_svg().
#pragma once
#include <cairo.h>

#include <memory>
#include <string>

#include "report/raster.h"

namespace cvae {

class Canvas {
 public:
  // A width×height image, painted white. `what` names the figure in errors.
  static Canvas image(int width, int height, const std::string& what);
  // An SVG document of width×height pixels (one user unit a pixel), painted white.
  static Canvas svg(double width, double height, const std::string& what);

  Canvas(Canvas&&) noexcept = default;
  Canvas& operator=(Canvas&&) = delete;

  cairo_t* cr() const { return cr_.get(); }
  // Throws if anything drawn so far failed.
  void check() const;
  // The image's pixels (image canvases only).
  Raster to_raster() const;
  // Ends the document and returns it (SVG canvases only); nothing can be drawn afterwards.
  std::string finish_svg();

 private:
  struct DestroySurface {
    void operator()(cairo_surface_t* surface) const { cairo_surface_destroy(surface); }
  };
  struct DestroyContext {
    void operator()(cairo_t* cr) const { cairo_destroy(cr); }
  };

  Canvas(cairo_surface_t* surface, std::unique_ptr<std::string> svg, const std::string& what);

  // Declared in this order so that they are released in the reverse: the context, then the
  // surface (an SVG surface writes its last bytes then), then the string it writes into — also
  // when the constructor throws half-way. The string lives on the heap so that its address, which
  // cairo keeps, survives moving the Canvas.
  std::unique_ptr<std::string> svg_;
  std::unique_ptr<cairo_surface_t, DestroySurface> surface_;
  std::unique_ptr<cairo_t, DestroyContext> cr_;
  std::string what_;
};

// An image surface's pixels as a Raster: RGB24 as it is, ARGB32 (premultiplied) composited over
// white. `what` names the figure in errors.
Raster raster_from_surface(cairo_surface_t* surface, const std::string& what);

struct Font {
  double size = 14;  // pixels (the em size)
  bool bold = false;
};

struct LineMetrics {
  double ascent = 0, descent = 0;  // above and below the baseline, pixels
  double height() const { return ascent + descent; }
};

enum class Align { left, centre, right };

void set_color(cairo_t* cr, Rgb color, double alpha = 1);
// Selects DejaVu Sans at `font`, with grey-level antialiasing and unhinted metrics, so that text
// measures the same on an image, an SVG document and the measuring context of text_width().
void set_font(cairo_t* cr, Font font);
// `text` (UTF-8) with its baseline at `baseline`, starting at, centred on or ending at x.
// Returns its advance width.
double draw_text(cairo_t* cr, double x, double baseline, const std::string& text, Font font,
                 Rgb color, Align align = Align::left);
// Measured without a figure, for layouts computed before the canvas exists.
double text_width(const std::string& text, Font font);
LineMetrics line_metrics(Font font);

// rows×cols values in [0, 1] as grey levels (0 black, 1 white), each value a scale×scale block
// with its top-left corner at the integer pixel (x, y): nearest-neighbour, so every block is
// exactly one grey level, round(255·v).
void draw_gray_tile(cairo_t* cr, int x, int y, const float* values, int rows, int cols, int scale);

}  // namespace cvae

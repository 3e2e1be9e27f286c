#include "report/canvas.h"

#include <cairo-svg.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "engine/error.h"

namespace cvae {

namespace {

// The font every figure uses. cairo's text API asks fontconfig for this family; where DejaVu Sans
// is not installed fontconfig quietly substitutes its closest match (no error to check): the
// figures still draw, in another face. Layouts measure the face actually chosen, so text keeps
// its room either way.
constexpr const char* kFontFamily = "DejaVu Sans";

constexpr int kMaxSide = 16384;  // pixels: no figure comes near it; larger means a layout bug

[[noreturn]] void cairo_failure(const std::string& what, cairo_status_t status) {
  fail(what + ": cairo: " + cairo_status_to_string(status));
}

void check_surface(cairo_surface_t* surface, const std::string& what) {
  cairo_status_t status = cairo_surface_status(surface);
  if (status != CAIRO_STATUS_SUCCESS) cairo_failure(what, status);
}

void check_context(cairo_t* cr, const std::string& what) {
  cairo_status_t status = cairo_status(cr);
  if (status != CAIRO_STATUS_SUCCESS) cairo_failure(what, status);
}

cairo_status_t append_to_string(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

// A 1×1 image and its context, for measuring text outside any figure.
struct Measure {
  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
  cairo_t* cr = cairo_create(surface);
  explicit Measure(Font font) {
    set_font(cr, font);
    check_context(cr, "measuring text");
  }
  ~Measure() {
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
  }
};

}  // namespace

Canvas::Canvas(cairo_surface_t* surface, std::unique_ptr<std::string> svg, const std::string& what)
    : svg_(std::move(svg)), surface_(surface), what_(what) {
  check_surface(surface_.get(), what_);
  cr_.reset(cairo_create(surface_.get()));
  check_context(cr_.get(), what_);
  cairo_set_source_rgb(cr(), 1, 1, 1);
  cairo_paint(cr());
  check_context(cr(), what_);
}

Canvas Canvas::image(int width, int height, const std::string& what) {
  if (width < 1 || height < 1 || width > kMaxSide || height > kMaxSide)
    fail(what + ": image size " + std::to_string(width) + "x" + std::to_string(height) + " out of range");
  // RGB24: the figures are opaque, so there is no alpha to carry into the Raster.
  return Canvas(cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height), nullptr, what);
}

Canvas Canvas::svg(double width, double height, const std::string& what) {
  if (!(width >= 1 && height >= 1 && width <= kMaxSide && height <= kMaxSide))
    fail(what + ": SVG size out of range");
  auto document = std::make_unique<std::string>();
  cairo_surface_t* surface = cairo_svg_surface_create_for_stream(append_to_string, document.get(), width, height);
  // Pixels rather than cairo's default points, so a browser shows the document at the PNG's size.
  if (cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS)
    cairo_svg_surface_set_document_unit(surface, CAIRO_SVG_UNIT_PX);
  return Canvas(surface, std::move(document), what);
}

void Canvas::check() const {
  if (!cr_) fail(what_ + ": drawn on after the document was finished");
  check_context(cr_.get(), what_);
  check_surface(surface_.get(), what_);
}

Raster Canvas::to_raster() const {
  check();
  return raster_from_surface(surface_.get(), what_);
}

std::string Canvas::finish_svg() {
  if (!svg_) fail(what_ + ": not an SVG canvas");
  check();
  cr_.reset();
  // The document is written out by finish: only then is it complete (or a write error known).
  cairo_surface_finish(surface_.get());
  check_surface(surface_.get(), what_);
  return *svg_;
}

Raster raster_from_surface(cairo_surface_t* surface, const std::string& what) {
  check_surface(surface, what);
  if (cairo_surface_get_type(surface) != CAIRO_SURFACE_TYPE_IMAGE) fail(what + ": not an image surface");
  cairo_surface_flush(surface);
  const cairo_format_t format = cairo_image_surface_get_format(surface);
  if (format != CAIRO_FORMAT_RGB24 && format != CAIRO_FORMAT_ARGB32)
    fail(what + ": image format " + std::to_string(static_cast<int>(format)) + " is neither RGB24 nor ARGB32");
  const int width = cairo_image_surface_get_width(surface), height = cairo_image_surface_get_height(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  const unsigned char* data = cairo_image_surface_get_data(surface);
  if (!data) fail(what + ": image surface has no pixels");
  Raster image = make_raster(width, height, {255, 255, 255});
  for (int y = 0; y < height; ++y) {
    const unsigned char* row = data + static_cast<size_t>(y) * stride;
    uint8_t* out = &image.rgb[static_cast<size_t>(y) * width * 3];
    for (int x = 0; x < width; ++x) {
      // One native-endian 32-bit word per pixel: alpha (or unused), red, green, blue from the top.
      uint32_t pixel;
      std::memcpy(&pixel, row + 4 * x, 4);
      // Premultiplied colour over white: c + (1 − α)·255; RGB24 is opaque (α = 255).
      const unsigned cover = format == CAIRO_FORMAT_ARGB32 ? 255 - (pixel >> 24) : 0;
      out[3 * x] = static_cast<uint8_t>(std::min(255u, ((pixel >> 16) & 255) + cover));
      out[3 * x + 1] = static_cast<uint8_t>(std::min(255u, ((pixel >> 8) & 255) + cover));
      out[3 * x + 2] = static_cast<uint8_t>(std::min(255u, (pixel & 255) + cover));
    }
  }
  return image;
}

void set_color(cairo_t* cr, Rgb color, double alpha) {
  cairo_set_source_rgba(cr, color.r / 255.0, color.g / 255.0, color.b / 255.0, alpha);
}

void set_font(cairo_t* cr, Font font) {
  cairo_select_font_face(cr, kFontFamily, CAIRO_FONT_SLANT_NORMAL,
                         font.bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, font.size);
  // Grey levels, never subpixel colour fringes (a desktop's fontconfig may ask for them), and
  // advances that do not depend on the surface's hinting.
  cairo_font_options_t* options = cairo_font_options_create();
  cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY);
  cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_SLIGHT);
  cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
  cairo_set_font_options(cr, options);
  cairo_font_options_destroy(options);
}

double draw_text(cairo_t* cr, double x, double baseline, const std::string& text, Font font, Rgb color,
                 Align align) {
  if (text.empty()) return 0;
  set_font(cr, font);
  cairo_text_extents_t extents;
  cairo_text_extents(cr, text.c_str(), &extents);
  const double start = align == Align::left ? x : align == Align::centre ? x - extents.x_advance / 2
                                                                           : x - extents.x_advance;
  set_color(cr, color);
  cairo_move_to(cr, start, baseline);
  cairo_show_text(cr, text.c_str());
  cairo_new_path(cr);
  return extents.x_advance;
}

double text_width(const std::string& text, Font font) {
  if (text.empty()) return 0;
  Measure m(font);
  cairo_text_extents_t extents;
  cairo_text_extents(m.cr, text.c_str(), &extents);
  check_context(m.cr, "measuring text");
  return extents.x_advance;
}

LineMetrics line_metrics(Font font) {
  Measure m(font);
  cairo_font_extents_t extents;
  cairo_font_extents(m.cr, &extents);
  check_context(m.cr, "measuring text");
  return {extents.ascent, extents.descent};
}

void draw_gray_tile(cairo_t* cr, int x, int y, const float* values, int rows, int cols, int scale) {
  cairo_surface_t* tile = cairo_image_surface_create(CAIRO_FORMAT_RGB24, cols, rows);
  if (cairo_surface_status(tile) != CAIRO_STATUS_SUCCESS) {
    cairo_status_t status = cairo_surface_status(tile);
    cairo_surface_destroy(tile);
    cairo_failure("image tile", status);
  }
  unsigned char* data = cairo_image_surface_get_data(tile);
  const int stride = cairo_image_surface_get_stride(tile);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      float v = std::min(std::max(values[static_cast<size_t>(r) * cols + c], 0.0f), 1.0f);
      uint32_t level = static_cast<uint32_t>(std::lround(v * 255.0f));
      uint32_t pixel = 0xFF000000u | level << 16 | level << 8 | level;
      std::memcpy(data + static_cast<size_t>(r) * stride + 4 * c, &pixel, 4);
    }
  cairo_surface_mark_dirty(tile);
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_scale(cr, scale, scale);
  cairo_set_source_surface(cr, tile, 0, 0);
  // Each value one block of one grey: no interpolation between neighbouring pixels.
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_rectangle(cr, 0, 0, cols, rows);
  cairo_fill(cr);
  cairo_restore(cr);
  cairo_surface_destroy(tile);
}

}  // namespace cvae

#include "report/png.h"

#include <png.h>

#include <csetjmp>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "engine/error.h"

namespace cvae {

namespace {

// libpng reports errors through longjmp; the message is kept here and thrown once back in C++.
struct PngContext {
  std::string message;
  std::string* out = nullptr;        // writing
  const std::string* in = nullptr;   // reading
  size_t position = 0;
};

void on_error(png_structp png, png_const_charp message) {
  auto* context = static_cast<PngContext*>(png_get_error_ptr(png));
  context->message = message ? message : "unknown libpng error";
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}

void on_write(png_structp png, png_bytep data, png_size_t length) {
  auto* context = static_cast<PngContext*>(png_get_io_ptr(png));
  context->out->append(reinterpret_cast<const char*>(data), length);
}

void on_flush(png_structp) {}

void on_read(png_structp png, png_bytep data, png_size_t length) {
  auto* context = static_cast<PngContext*>(png_get_io_ptr(png));
  if (context->position + length > context->in->size()) png_error(png, "file ends early");
  std::memcpy(data, context->in->data() + context->position, length);
  context->position += length;
}

}  // namespace

namespace {

// What one PNG file holds, decided before libpng runs (nothing here changes after setjmp).
struct PngPlan {
  int width = 0, height = 0;
  const uint8_t* data = nullptr;  // rows of palette indices or of RGB triples
  size_t row_bytes = 0;
  std::vector<png_color> palette;  // empty: RGB
};

std::string write_png(const PngPlan& plan) {
  std::string bytes;
  PngContext context;
  context.out = &bytes;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &context, on_error, on_warning);
  if (!png) fail("png: cannot create a libpng writer");
  png_infop info = png_create_info_struct(png);
  std::vector<png_bytep> rows(plan.height);
  for (int r = 0; r < plan.height; ++r)
    rows[r] = const_cast<png_bytep>(plan.data + static_cast<size_t>(r) * plan.row_bytes);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    fail("png: encoding failed (" + context.message + ")");
  }
  png_set_write_fn(png, &context, on_write, on_flush);
  png_set_IHDR(png, info, plan.width, plan.height, 8,
               plan.palette.empty() ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (!plan.palette.empty())
    png_set_PLTE(png, info, plan.palette.data(), static_cast<int>(plan.palette.size()));
  png_set_compression_level(png, 9);
  png_write_info(png, info);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return bytes;
}

}  // namespace

std::string encode_png(const Raster& image) {
  if (image.width < 1 || image.height < 1 ||
      image.rgb.size() != static_cast<size_t>(image.width) * image.height * 3)
    fail("png: raster of " + std::to_string(image.width) + "x" + std::to_string(image.height) +
         " has " + std::to_string(image.rgb.size()) + " bytes");
  // A palette when the colours fit in 256 entries (in order of first appearance).
  const size_t pixels = static_cast<size_t>(image.width) * image.height;
  std::unordered_map<uint32_t, uint8_t> index_of;
  PngPlan plan;
  plan.width = image.width;
  plan.height = image.height;
  std::vector<uint8_t> indexed(pixels);
  for (size_t i = 0; i < pixels; ++i) {
    const uint8_t* p = &image.rgb[3 * i];
    uint32_t key = (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
    auto it = index_of.find(key);
    if (it == index_of.end()) {
      if (plan.palette.size() == 256) {
        plan.palette.clear();
        break;
      }
      it = index_of.emplace(key, static_cast<uint8_t>(plan.palette.size())).first;
      plan.palette.push_back({p[0], p[1], p[2]});
    }
    indexed[i] = it->second;
  }
  plan.data = plan.palette.empty() ? image.rgb.data() : indexed.data();
  plan.row_bytes = plan.palette.empty() ? static_cast<size_t>(image.width) * 3 : static_cast<size_t>(image.width);
  return write_png(plan);
}

Raster decode_png(const std::string& bytes, const std::string& source) {
  if (bytes.size() < 8 || png_sig_cmp(reinterpret_cast<png_const_bytep>(bytes.data()), 0, 8) != 0)
    fail(source + ": not a PNG file");
  PngContext context;
  context.in = &bytes;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &context, on_error, on_warning);
  if (!png) fail("png: cannot create a libpng reader");
  png_infop info = png_create_info_struct(png);
  Raster image;
  std::vector<png_bytep> rows;
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    fail(source + ": " + context.message);
  }
  png_set_read_fn(png, &context, on_read);
  png_set_user_limits(png, 16384, 16384);
  png_read_info(png, info);
  png_set_expand(png);  // palette → RGB, grey < 8 bits → 8 bits, tRNS → alpha
  png_set_strip_16(png);
  png_set_strip_alpha(png);
  png_set_gray_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  image.width = static_cast<int>(png_get_image_width(png, info));
  image.height = static_cast<int>(png_get_image_height(png, info));
  if (png_get_rowbytes(png, info) != static_cast<size_t>(image.width) * 3)
    png_error(png, "unexpected row size after conversion to RGB");
  image.rgb.resize(static_cast<size_t>(image.width) * image.height * 3);
  rows.resize(image.height);
  for (int r = 0; r < image.height; ++r)
    rows[r] = image.rgb.data() + static_cast<size_t>(r) * image.width * 3;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return image;
}

}  // namespace cvae

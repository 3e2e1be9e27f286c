// The image writers: PNG through libpng decodes back to the same pixels; SVG and the drawing
// primitives produce what they promise.
#include <catch2/catch.hpp>

#include <cmath>

#include "report/figures.h"
#include "report/html.h"
#include "report/png.h"
#include "engine/io/svg.h"
#include "report/raster.h"
#include "tests/test_helpers.h"
#include "tests/test_report_helpers.h"

using namespace cvae;

namespace {

size_t non_white(const Raster& image) {
  size_t n = 0;
  for (size_t i = 0; i < image.rgb.size(); i += 3)
    n += image.rgb[i] != 255 || image.rgb[i + 1] != 255 || image.rgb[i + 2] != 255;
  return n;
}

}  // namespace

TEST_CASE("PNG written by encode_png decodes with libpng to the same pixels", "[images]") {
  for (auto [w, h] : {std::pair<int, int>{1, 1}, {7, 3}, {64, 65}, {301, 17}}) {
    Raster image = make_raster(w, h, {0, 0, 0});
    std::vector<double> noise = test::random_values(image.rgb.size(), 11, 0, 256);
    for (size_t i = 0; i < image.rgb.size(); ++i) image.rgb[i] = static_cast<uint8_t>(noise[i]);
    std::string bytes = encode_png(image);
    REQUIRE(bytes.compare(1, 3, "PNG") == 0);
    Raster back = decode_png(bytes, "round trip");
    REQUIRE(back.width == w);
    REQUIRE(back.height == h);
    REQUIRE(back.rgb == image.rgb);
  }
}

TEST_CASE("an image of few colours is written as a smaller palette PNG with the same pixels", "[images]") {
  Raster image = make_raster(120, 80, {255, 255, 255});
  const std::vector<Rgb> colors = class_palette(10);
  for (int i = 0; i < 200; ++i)
    fill_disc(image, (i * 37) % 120, (i * 53) % 80, 3, colors[i % 10], 1.0f, false);
  draw_text(image, 4, 4, "palette", {34, 34, 34}, 2);
  std::string bytes = encode_png(image);
  REQUIRE(static_cast<uint8_t>(bytes[25]) == 3);  // IHDR colour type: palette
  Raster back = decode_png(bytes, "palette");
  REQUIRE(back.rgb == image.rgb);
  // 257 colours: RGB again.
  Raster many = make_raster(257, 1, {0, 0, 0});
  for (int x = 0; x < 257; ++x) many.rgb[3 * x] = static_cast<uint8_t>(x), many.rgb[3 * x + 1] = x == 256;
  std::string rgb = encode_png(many);
  REQUIRE(static_cast<uint8_t>(rgb[25]) == 2);  // truecolour
  REQUIRE(decode_png(rgb, "rgb").rgb == many.rgb);
}

TEST_CASE("decode_png names the source of a file that is not a PNG or is cut short", "[images]") {
  REQUIRE_THROWS_WITH(decode_png("not a png at all", "x.png"), Catch::Contains("x.png: not a PNG"));
  Raster image = make_raster(40, 40, {10, 200, 30});
  std::string bytes = encode_png(image);
  REQUIRE_THROWS_WITH(decode_png(bytes.substr(0, bytes.size() / 2), "half.png"), Catch::Contains("half.png"));
}

TEST_CASE("text is drawn inside its measured width and the font covers the titles' characters", "[images]") {
  const std::string text = "t-SNE of μ: λ·e_y, β ± σ — Ankle boot 0123456789";
  Raster image = make_raster(text_width(text, 2) + 20, 40, {255, 255, 255});
  int drawn = draw_text(image, 10, 10, text, {0, 0, 0}, 2);
  REQUIRE(drawn == text_width(text, 2));
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) {
      bool ink = image.rgb[(static_cast<size_t>(y) * image.width + x) * 3] != 255;
      if (ink) {
        REQUIRE(x >= 10);
        REQUIRE(x < 10 + drawn);
        REQUIRE(y >= 10);
        REQUIRE(y < 10 + kGlyphHeight * 2);
      }
    }
  // No glyph falls back to '?': the same text without '?' draws no '?' shape — compare against a
  // rendering of the missing-glyph marker itself.
  Raster unknown = make_raster(20, 30, {255, 255, 255});
  Raster question = make_raster(20, 30, {255, 255, 255});
  draw_text(unknown, 2, 2, "\u4e00", {0, 0, 0}, 1);
  draw_text(question, 2, 2, "?", {0, 0, 0}, 1);
  REQUIRE(unknown.rgb == question.rgb);
  for (const char* glyph : {"μ", "λ", "·", "β", "±", "σ", "—"}) {
    Raster g = make_raster(20, 30, {255, 255, 255});
    draw_text(g, 2, 2, glyph, {0, 0, 0}, 1);
    REQUIRE(g.rgb != question.rgb);
  }
}

TEST_CASE("an anti-aliased disc covers about πr² pixels", "[images]") {
  Raster image = make_raster(40, 40, {255, 255, 255});
  fill_disc(image, 20.3, 19.6, 8, {0, 0, 0}, 1.0f);
  double coverage = 0;
  for (size_t i = 0; i < image.rgb.size(); i += 3) coverage += (255 - image.rgb[i]) / 255.0;
  REQUIRE(coverage == Approx(3.14159265 * 64).epsilon(0.02));
}

TEST_CASE("SVG of a scatter plot and of training curves is well-formed XML", "[images]") {
  std::vector<double> xy;
  std::vector<int32_t> labels;
  for (int i = 0; i < 50; ++i) {
    xy.push_back(std::cos(i) * (i % 5));
    xy.push_back(std::sin(i) * (i % 7));
    labels.push_back(i % 3);
  }
  ScatterSpec spec;
  spec.title = "a <title> & \"quotes\"";
  spec.subtitle = "50 points";
  spec.xy = &xy;
  spec.labels = &labels;
  spec.names = {"T-shirt/top", "Trouser", "A & B"};
  std::string svg = scatter_svg(spec);
  REQUIRE(svg.rfind("<?xml", 0) == 0);
  REQUIRE(svg.find("xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
  REQUIRE(test::markup_problem(svg, false) == "");
  REQUIRE(svg.find("<circle") != std::string::npos);
  REQUIRE(svg.find("A &amp; B") != std::string::npos);

  std::vector<CurveSeries> series = {{"loss", {160, 120, 110, 105}, {1, 2, 3}}, {"KL", {14, 20, 21, 21.5}, {4, 5, 6}}};
  std::string curves = curves_svg("loss per epoch", series);
  REQUIRE(curves.rfind("<svg", 0) == 0);
  REQUIRE(test::markup_problem(curves, false) == "");
  REQUIRE(curves.find("<polyline") != std::string::npos);
  std::string one_epoch = curves_svg("one epoch", {{"loss", {100}, {1, 2, 3}}});
  REQUIRE(test::markup_problem(one_epoch, false) == "");
  std::string none = curves_svg("none", {});
  REQUIRE(test::markup_problem(none, false) == "");
}

TEST_CASE("the markup checker itself rejects broken markup", "[images]") {
  REQUIRE(test::markup_problem("<a><b></a></b>", false) != "");
  REQUIRE(test::markup_problem("<a x=1></a>", false) != "");
  REQUIRE(test::markup_problem("<a>&bogus</a>", false) != "");
  REQUIRE(test::markup_problem("<a>", false) != "");
  REQUIRE(test::markup_problem("<!DOCTYPE html><html><img src=\"x\"><style>p > a {}</style></html>", true) == "");
}

TEST_CASE("scatter raster draws every class colour and a legend", "[images]") {
  std::vector<double> xy;
  std::vector<int32_t> labels;
  for (int i = 0; i < 300; ++i) {
    xy.push_back((i % 10) * 3.0 + std::cos(i));
    xy.push_back(std::sin(i * 0.7));
    labels.push_back(i % 10);
  }
  ScatterSpec spec;
  spec.title = "test";
  spec.xy = &xy;
  spec.labels = &labels;
  spec.names = label_names("fashion", 10);
  spec.plot_size = 300;
  Raster image = scatter_raster(spec);
  REQUIRE(image.width > 300);
  for (const Rgb& color : class_palette(10)) {
    bool found = false;
    for (size_t i = 0; i < image.rgb.size() && !found; i += 3)
      found = image.rgb[i] == color.r && image.rgb[i + 1] == color.g && image.rgb[i + 2] == color.b;
    REQUIRE(found);  // the legend's swatches are drawn opaque
  }
  REQUIRE_THROWS_WITH([&] {
    std::vector<int32_t> bad = labels;
    bad[3] = 10;
    ScatterSpec s = spec;
    s.labels = &bad;
    scatter_raster(s);
  }(), Catch::Contains("label 10"));
}

TEST_CASE("image grid lays out rows×columns tiles with labels", "[images]") {
  std::vector<float> images(6 * 4 * 4);
  for (size_t i = 0; i < images.size(); ++i) images[i] = (i % 16) / 15.0f;
  GridSpec spec;
  spec.title = "grid";
  spec.images = images.data();
  spec.rows = 2;
  spec.columns = 3;
  spec.image_rows = 4;
  spec.image_cols = 4;
  spec.scale = 3;
  spec.row_labels = {"first", "second"};
  Raster grid = image_grid(spec);
  REQUIRE(grid.width >= 3 * 12 + text_width("second", 2));
  REQUIRE(non_white(grid) > 6 * 12 * 12 / 2);
  spec.row_labels = {"only one"};
  REQUIRE_THROWS(image_grid(spec));
}

TEST_CASE("base64 and data URIs encode as RFC 4648 says", "[images]") {
  REQUIRE(base64_encode("") == "");
  REQUIRE(base64_encode("f") == "Zg==");
  REQUIRE(base64_encode("fo") == "Zm8=");
  REQUIRE(base64_encode("foo") == "Zm9v");
  REQUIRE(base64_encode("foobar") == "Zm9vYmFy");
  REQUIRE(data_uri("image/png", "\x89PNG") == "data:image/png;base64,iVBORw==");
  REQUIRE(html_escape("<a href='x'>&</a>") == "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;");
}

// The image writers: PNG through libpng decodes back to the same pixels; the hand-written SVG of
// the curves is well-formed. (The cairo-drawn figures: tests/test_figures.cpp.)
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "engine/io/svg.h"
#include "report/figures.h"
#include "report/html.h"
#include "report/png.h"
#include "report/raster.h"
#include "tests/test_helpers.h"
#include "tests/test_report_helpers.h"

using namespace cvae;

namespace {

void fill_rect(Raster& image, int x, int y, int width, int height, Rgb color) {
  for (int row = std::max(y, 0); row < std::min(y + height, image.height); ++row)
    for (int col = std::max(x, 0); col < std::min(x + width, image.width); ++col) {
      uint8_t* p = &image.rgb[(static_cast<size_t>(row) * image.width + col) * 3];
      p[0] = color.r;
      p[1] = color.g;
      p[2] = color.b;
    }
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
  for (int i = 0; i < 200; ++i) fill_rect(image, (i * 37) % 120, (i * 53) % 80, 3, 3, colors[i % 10]);
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

TEST_CASE("SVG of the training curves is well-formed XML", "[images]") {
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

TEST_CASE("base64 and data URIs encode as RFC 4648 says", "[images]") {
  REQUIRE(base64_encode("") == "");
  REQUIRE(base64_encode("f") == "Zg==");
  REQUIRE(base64_encode("fo") == "Zm8=");
  REQUIRE(base64_encode("foo") == "Zm9v");
  REQUIRE(base64_encode("foobar") == "Zm9vYmFy");
  REQUIRE(data_uri("image/png", "\x89PNG") == "data:image/png;base64,iVBORw==");
  REQUIRE(html_escape("<a href='x'>&</a>") == "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;");
}

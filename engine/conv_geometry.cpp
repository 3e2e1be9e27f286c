#include <string>

#include "engine/backend.h"
#include "engine/error.h"

namespace cvae {

void check_conv_geometry(const ConvGeometry& g, const char* op) {
  auto fail_with = [&](const char* what) { fail(std::string(op) + ": " + what); };
  if (g.batch < 0 || g.in_channels < 1 || g.out_channels < 1 || g.height < 1 || g.width < 1)
    fail_with("batch, channels and image size must be positive");
  if (g.kernel < 1 || g.stride < 1 || g.padding < 0 || g.padding >= g.kernel)
    fail_with("kernel and stride must be >= 1 and 0 <= padding < kernel");
  if (g.height + 2 * g.padding < g.kernel || g.width + 2 * g.padding < g.kernel)
    fail_with("kernel larger than the padded image");
  if (static_cast<double>(g.batch) * g.out_height() * g.out_width() * g.kernel * g.kernel *
          g.in_channels > 2147483647.0)
    fail_with("im2col matrix larger than 2^31 entries");
}

}  // namespace cvae

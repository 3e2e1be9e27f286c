// A labelled heat map of a square matrix (e.g. distances between class centres) as a standalone SVG.
#pragma once
#include <string>
#include <vector>

namespace cvae {

std::string heatmap_svg(const std::vector<double>& matrix, int n, const std::vector<std::string>& labels,
                        const std::string& title);

}  // namespace cvae

// The page of one run's report, report.html: key numbers, training curves, the latent space,
// samples, metrics (metrics.json and the report's own report.json) and the configuration.
#pragma once
#include <string>

#include "report/run_report.h"

namespace cvae {

std::string run_html(const RunReport& r, const ReportOptions& options);

// What the class-conditional grid of a run shows (the run page and the comparison page).
std::string conditional_caption(const RunReport& r);

}  // namespace cvae

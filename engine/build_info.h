// What this binary was built from, for the records a run leaves (metrics.json, table1.json): the
// commit of the checkout at build time, "-dirty" when it had uncommitted changes.
#pragma once

namespace cvae {

const char* build_commit();

}  // namespace cvae

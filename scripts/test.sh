#!/usr/bin/env bash
# The tests from a fresh machine: set-up, build, ctest (GPU tests skip, visibly, without a device).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/setup.sh"
bash "$repo/scripts/build.sh"
cd "$repo/build"
ctest --output-on-failure -j "$(nproc)" "$@"

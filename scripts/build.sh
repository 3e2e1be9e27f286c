#!/usr/bin/env bash
# Configure and build into ./build (Release). Extra arguments go to cmake's configure step,
# e.g. -DCLUSTERVAE_CUDA=OFF. BUILD_DIR overrides the folder; BUILD_TARGETS (space-separated)
# builds only those targets, e.g. BUILD_TARGETS=clustervae-train (default: everything).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$repo/build}"
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
targets=()
for t in ${BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build" -j "$(nproc)" "${targets[@]}"

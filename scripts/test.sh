#!/usr/bin/env bash
# The tests from a fresh machine: set-up, build, ctest (GPU tests skip, visibly, without a device);
# then the CPU tests again under AddressSanitizer + UndefinedBehaviorSanitizer, and each libFuzzer
# target for a bounded time. `--quick` runs only the first stage.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
quick=0
[ "${1:-}" = "--quick" ] && quick=1
bash "$repo/scripts/setup.sh" --tests

echo "== build and test (Release) =="
bash "$repo/scripts/build.sh"
(cd "$repo/build" && ctest --output-on-failure -j "$(nproc)")
[ $quick = 1 ] && exit 0

echo "== CPU tests under AddressSanitizer + UndefinedBehaviorSanitizer =="
# The flags live in one place: CMakePresets.json's "sanitize" (CPU only, ASan + UBSan).
cmake --preset sanitize -S "$repo" > /dev/null
cmake --build "$repo/build-sanitize" -j "$(nproc)"
# The SIGKILL test spawns the trainer; leaks in a killed process are not leaks.
(cd "$repo/build-sanitize" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  LSAN_OPTIONS="suppressions=$repo/tests/lsan.supp" \
  ctest --output-on-failure -j "$(nproc)" -L "cpu|emulated")

echo "== fuzzing =="
FUZZ_SECONDS="${FUZZ_SECONDS:-30}" bash "$repo/scripts/fuzz.sh"

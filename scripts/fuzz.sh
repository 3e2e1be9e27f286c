#!/usr/bin/env bash
# Builds the libFuzzer targets (CMake preset "fuzz": clang, AddressSanitizer and UBSan) and runs
# each for a bounded time on its seed corpus (tests/fuzz/corpus/<target>). A crash leaves its
# input in build-fuzz/crashes/ and fails the script: turn it into a regression test.
#   FUZZ_SECONDS  time per target (default 30)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$repo/build-fuzz"
seconds="${FUZZ_SECONDS:-30}"
mkdir -p "$out/crashes"
cmake --preset fuzz -S "$repo" > /dev/null
cmake --build "$out" -j "$(nproc)"
for target in idx config safetensors; do
  work="$out/corpus-$target"
  mkdir -p "$work"
  echo "fuzz: $target for ${seconds}s"
  status=0
  "$out/fuzz_$target" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$out/crashes/$target-" -print_final_stats=1 \
    "$work" "$repo/tests/fuzz/corpus/$target" > "$out/$target.log" 2>&1 || status=$?
  grep -E "^stat::number_of_executed_units" "$out/$target.log" || true
  if [ "$status" != 0 ]; then
    grep -E "^(==|SUMMARY)" "$out/$target.log" | head -20 >&2 || true
    echo "fuzz: $target found a failing input in $out/crashes/ (log: $out/$target.log)" >&2
    exit 1
  fi
done
echo "fuzz: no crashes"

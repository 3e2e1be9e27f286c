#!/usr/bin/env bash
# Times one MNIST epoch of each method on the CPU reference path (batch 128, 2 threads by default),
# several repetitions, and writes bench/results/cpu-epoch-<date>.json with the machine, versions,
# commit and raw timings. Run it on a quiet machine: OpenMP threads that share their cores with other
# work lose most of their speed (see bench/README.md).
#   THREADS (2)  REPEATS (3)  METHODS ("vae beta cvae lambdahot kmeans movable")
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
threads="${THREADS:-2}"
repeats="${REPEATS:-3}"
methods="${METHODS:-vae beta cvae lambdahot kmeans movable}"
bin="$repo/build/clustervae-train"
[ -x "$bin" ] || { echo "cpu_epoch: build first (bash scripts/build.sh)" >&2; exit 2; }
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
out="$repo/bench/results/cpu-epoch-$(date -u +%Y%m%d-%H%M%S).json"
mkdir -p "$repo/bench/results"
{
  echo "{"
  echo "  \"what\": \"one MNIST epoch (60000 images, batch 128), CPU backend, seconds of the training loop\","
  echo "  \"cpu\": \"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')\","
  echo "  \"threads\": $threads,"
  echo "  \"load_average_before\": \"$(cut -d' ' -f1-3 /proc/loadavg)\","
  echo "  \"onednn\": \"$(dpkg-query -W -f='${Version}' libdnnl-dev 2>/dev/null || echo unknown)\","
  echo "  \"compiler\": \"$(c++ --version | head -1)\","
  echo "  \"commit\": \"$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)\","
  echo "  \"results\": {"
} > "$out"
first=1
for method in $methods; do
  times=()
  for r in $(seq "$repeats"); do
    "$bin" "$repo/configs/mnist_$method.json" epochs=1 evaluate=false threads="$threads" \
      progress=off out="$scratch" data_dir="${CLUSTERVAE_DATA:-$repo/data}" > "$scratch/out.txt"
    seconds=$(grep -A1 '"epoch_seconds"' "$scratch/out.txt" | tail -1 | tr -d ' ,')
    times+=("$seconds")
  done
  sorted=$(printf '%s\n' "${times[@]}" | sort -g)
  median=$(echo "$sorted" | sed -n "$(( (repeats + 1) / 2 ))p")
  printf '  %-10s median %6.3f s  (%s)\n' "$method" "$median" "${times[*]}"
  [ $first = 1 ] || echo "," >> "$out"
  first=0
  printf '    "%s": {"median_seconds": %s, "seconds": [%s]}' "$method" "$median" "$(IFS=,; echo "${times[*]}")" >> "$out"
done
printf '\n  }\n}\n' >> "$out"
echo "written: $out"

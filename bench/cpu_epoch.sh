#!/usr/bin/env bash
# Times one MNIST epoch of each method on the CPU reference path (batch 128, 2 threads by default),
# several repetitions, and writes bench/results/cpu-epoch-<date>.json with the machine, versions,
# commit and raw timings. Run it on a quiet machine: OpenMP threads that share their cores with other
# work lose most of their speed (see bench/README.md).
#   THREADS (2)  REPEATS (3)  METHODS ("vae beta cvae lambdahot kmeans movable")
set -euo pipefail
bench=cpu_epoch
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
threads="${THREADS:-2}"
repeats="${REPEATS:-3}"
methods="${METHODS:-vae beta cvae lambdahot kmeans movable}"
bin="$repo/build/clustervae-train"
bench_need_binary "$bin"
bench_scratch
out="$(bench_results_dir)/cpu-epoch-$(bench_stamp).json"
{
  echo "{"
  echo "  \"what\": \"one MNIST epoch (60000 images, batch 128), CPU backend, seconds of the training loop\","
  echo "  \"cpu\": \"$(bench_cpu_model)\","
  echo "  \"threads\": $threads,"
  echo "  \"load_average_before\": \"$(bench_load_average)\","
  echo "  \"onednn\": \"$(dpkg-query -W -f='${Version}' libdnnl-dev 2>/dev/null || echo unknown)\","
  echo "  \"compiler\": \"$(c++ --version | head -1)\","
  echo "  \"commit\": \"$(bench_git_head)\","
  echo "  \"results\": {"
} > "$out"
first=1
for method in $methods; do
  times=()
  for r in $(seq "$repeats"); do
    "$bin" "$repo/configs/mnist_$method.json" epochs=1 evaluate=false threads="$threads" \
      progress=off out="$scratch" data_dir="$data_dir" > "$scratch/out.txt"
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

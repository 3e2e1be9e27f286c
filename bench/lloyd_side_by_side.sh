#!/usr/bin/env bash
# Lloyd (k-means) side by side: clustervae's lloyd_assign + lloyd_accumulate (build/bench_backend_ops
# ops=lloyd) against PyTorch (bench/lloyd_torch.py: torch.cdist or an addmm expansion, then min,
# index_add_ and bincount) on the same points, the same device and the same thread count. Each
# repetition runs every size in a fresh process per engine, the engines alternating (the order is
# reversed every other repetition); each process times ITERATIONS iterations after two warm-ups.
# Prints per size the median ms per iteration (assign + accumulate) of each engine, the ratio and
# GFLOP/s against each engine's sgemm measured in the same run; writes
# bench/results/lloyd-side-by-side-<device>-<date>.json (machine, versions, commit, raw timings).
#
#   THREADS=1 bash bench/lloyd_side_by_side.sh
#
# Environment:
#   THREADS (1)        threads for both engines (clustervae threads=, torch.set_num_threads + BLAS)
#   REPEATS (3)        repetitions (processes per engine and size)
#   ITERATIONS (5)     timed Lloyd iterations inside each process
#   SIZES              N:D:K list (default "60000:20:10 100000:32:256 1048576:32:256")
#   TORCH_METHODS      "cdist addmm" (cdist: torch.cdist + min; addmm: ‖c‖² − 2 p·cᵀ + min + ‖p‖²)
#   TORCH_VARIANTS     the PyTorch set-ups, as in side_by_side.sh (cpu default: openblas; cuda: eager)
#   DEVICE (cpu)       cpu, or cuda (clustervae device=cuda, torch on the GPU with synchronize;
#                      needs PYTHON with a CUDA PyTorch; written for a GPU but not yet run on one)
#   PYTHON, COMMIT, BUILD_DIR   as in side_by_side.sh; OMP_WAIT_POLICY etc. passed on and recorded
set -euo pipefail
bench=lloyd_side_by_side
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_no_arguments "$@"

threads="${THREADS:-1}"
repeats="${REPEATS:-3}"
iterations="${ITERATIONS:-5}"
sizes="${SIZES:-60000:20:10 100000:32:256 1048576:32:256}"
methods="${TORCH_METHODS:-cdist addmm}"
bench_device
dataset=mnist
bin="$build_dir/bench_backend_ops"
if [ "$device" = cpu ]; then
  variants="${TORCH_VARIANTS:-openblas}"
else
  variants="${TORCH_VARIANTS:-eager}"
  for v in $variants; do
    [ "$v" = eager ] || { echo "lloyd_side_by_side: on cuda only the torch variant 'eager' exists" >&2; exit 2; }
  done
fi
for m in $methods; do
  case "$m" in cdist|addmm) ;; *) echo "lloyd_side_by_side: unknown torch method '$m'" >&2; exit 2 ;; esac
done

# shellcheck source=bench/torch_setup.sh
source "$repo/bench/torch_setup.sh"
# shellcheck source=bench/torch_variants.sh
source "$repo/bench/torch_variants.sh"
for v in $variants; do variant_setup "$v" >/dev/null || exit 2; done
[ -x "$bin" ] || BUILD_DIR="$build_dir" bash "$repo/scripts/build.sh"

bench_scratch
list="$scratch/runs.tsv"   # engine label, size, repetition, json file
: > "$list"
stamp="$(bench_stamp)"
out="$(bench_results_dir)/lloyd-side-by-side-$device-$stamp.json"
load_before="$(bench_load_average)"

# The limits: each engine's sgemm (2048³) on this device with these threads, before and after.
limits() {  # tag
  "$bin" ops=limits device="$device" threads="$threads" out="$scratch/limits-clustervae-$1.json" >/dev/null || {
    echo "lloyd_side_by_side: $bin failed (a build from before ops=lloyd? rebuild: bash scripts/build.sh)" >&2; exit 1; }
  printf 'clustervae\tlimits\t%s\t%s\n' "$1" "$scratch/limits-clustervae-$1.json" >> "$list"
  local v
  for v in $variants; do
    # shellcheck disable=SC2046,SC2086
    env $(variant_env "$v") "$python" "$repo/bench/lloyd_torch.py" --sizes "" --sgemm --threads "$threads" \
      --device "$device" --out "$scratch/limits-torch-$v-$1.json" 2>/dev/null
    printf 'torch-%s\tlimits\t%s\t%s\n' "$v" "$1" "$scratch/limits-torch-$v-$1.json" >> "$list"
  done
}

run_engine() {  # engine size repetition
  local json="$scratch/$1-${2//:/x}-$3.json"
  if [ "$1" = clustervae ]; then
    "$bin" ops=lloyd sizes="$2" iterations="$iterations" limits=0 device="$device" threads="$threads" \
      out="$json" > "$json.log" 2>&1 || { echo "lloyd_side_by_side: clustervae failed on $2:" >&2; cat "$json.log" >&2; exit 1; }
  else
    local rest="${1#torch-}" method variant check=""
    method="${rest%%-*}"
    variant="${rest#*-}"
    [ "$3" = 1 ] && check=--check
    # shellcheck disable=SC2046,SC2086
    env $(variant_env "$variant") "$python" "$repo/bench/lloyd_torch.py" --sizes "$2" --iterations "$iterations" \
      --threads "$threads" --device "$device" --method "$method" $check --out "$json" 2> "$json.log" || {
        echo "lloyd_side_by_side: torch ($1) failed on $2:" >&2; cat "$json.log" >&2; exit 1; }
  fi
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$json" >> "$list"
}

engines="clustervae"
for m in $methods; do for v in $variants; do engines="$engines torch-$m-$v"; done; done
echo "lloyd_side_by_side: $device, $threads threads, $repeats repetitions x $iterations iterations; sizes: $sizes; engines: $engines" >&2
echo "lloyd_side_by_side: load average before: $load_before" >&2
limits before
for rep in $(seq "$repeats"); do
  for size in $sizes; do
    # shellcheck disable=SC2086  # $engines is a word list
    for e in $(bench_order "$rep" $engines); do
      run_engine "$e" "$size" "$rep"
      "$python" -c '
import json, statistics, sys
r = json.load(open(sys.argv[1]))["lloyd"][0]
t = [a + b for a, b in zip(r["assign_seconds"], r["accumulate_seconds"])]
print("  rep %s %-16s %-28s %9.2f ms per iteration" % (sys.argv[2], sys.argv[3], sys.argv[4], 1e3 * statistics.median(t)))
' "$(tail -1 "$list" | cut -f4)" "$rep" "$size" "$e" >&2
    done
  done
done
limits after

commit="${COMMIT:-$(bench_git_head)}"
LOAD_BEFORE="$load_before" LOAD_AFTER="$(bench_load_average)" COMMIT_ID="$commit" \
THREADS_USED="$threads" REPEATS_USED="$repeats" ITERATIONS_USED="$iterations" DEVICE_USED="$device" \
STAMP="$stamp" BUILD_USED="$build_dir" "$python" "$repo/bench/lloyd_summary.py" "$list" "$out"

#!/usr/bin/env bash
# Accuracy side by side: the paper's Table 1 grid with clustervae-table1 and with the PyTorch
# reference (bench/torch_reference.py) over the same data sets, methods, seeds and configs
# (configs/<dataset>_<method>.json), then one markdown table comparing the two per method and data
# set (test BCE sampled and z = μ, argmax, cluster accuracy, NMI, linear probe), with differences
# beyond tolerance flagged (bench/table1_compare.py says how).
#
#   bash bench/table1_torch.sh [seeds=1,2,3] [datasets=mnist,fashion]
#                              [methods=vae,beta,cvae,lambdahot,kmeans] [key=value ...]
#   (also: bash bench/side_by_side.sh --accuracy ...)
#
# key=value overrides go to both implementations: epochs, train_limit, test_limit, batch_size, lr,
# beta, lambda, clusters, lloyd_iterations, eval_seed, eval_batch.
# Environment: THREADS (2), DEVICE (cpu | cuda), PYTHON, RUNS_OUT (runs/bench-table1: clustervae's
# run folders), CLUSTERVAE_TABLE1=<a table1.json> to reuse a clustervae grid already run (then only
# the PyTorch cells run; give the same seeds/datasets/methods/overrides).
# Writes bench/results/table1-torch-<device>-<date>.{md,json} and the PyTorch cells' metrics in
# bench/results/table1-torch-<device>-<date>/.
# The full grid (2 data sets x 5 methods x 3 seeds x 2 implementations, 10 epochs each) takes
# hours on a 2-core machine: run it on a quiet machine.
set -euo pipefail
bench=table1_torch
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
threads="${THREADS:-2}"
runs_out="${RUNS_OUT:-$repo/runs/bench-table1}"
seeds="1"
datasets="mnist,fashion"
methods="vae,beta,cvae,lambdahot,kmeans"
cv_overrides=()
torch_flags=()
for arg in "$@"; do
  key="${arg%%=*}"
  value="${arg#*=}"
  [ "$key" != "$arg" ] || { echo "table1_torch: argument '$arg' is not key=value" >&2; exit 2; }
  case "$key" in
    seeds) seeds="$value" ;;
    datasets) datasets="$value" ;;
    methods) methods="$value" ;;
    epochs|train_limit|test_limit|batch_size|lr|beta|lambda|clusters|lloyd_iterations|eval_seed|eval_batch)
      cv_overrides+=("$arg")
      torch_flags+=("--${key//_/-}" "$value") ;;
    *) echo "table1_torch: '$key' is not a setting both implementations share" >&2; exit 2 ;;
  esac
done
bench_device
dataset="${datasets%%,*}"
# shellcheck source=bench/torch_setup.sh
source "$repo/bench/torch_setup.sh"

prefix="$(bench_results_dir)/table1-torch-$device-$(bench_stamp)"
mkdir -p "$prefix" "$runs_out"

# ---- clustervae's grid ----------------------------------------------------------------------------
if [ -n "${CLUSTERVAE_TABLE1:-}" ]; then
  cv_json="$CLUSTERVAE_TABLE1"
  [ -s "$cv_json" ] || { echo "table1_torch: CLUSTERVAE_TABLE1=$cv_json does not exist" >&2; exit 2; }
else
  echo "table1_torch: clustervae-table1 seeds=$seeds datasets=$datasets methods=$methods ${cv_overrides[*]:-}" >&2
  "$build_dir/clustervae-table1" seeds="$seeds" datasets="$datasets" methods="$methods" \
    configs="$repo/configs" threads="$threads" device="$device" progress=off out="$runs_out" \
    data_dir="$data_dir" "${cv_overrides[@]}" > "$prefix/clustervae-table1.txt"
  cv_dir="$(sed -n 's/^written: \(.*\)\/table1\.md and table1\.json$/\1/p' "$prefix/clustervae-table1.txt")"
  [ -n "$cv_dir" ] && [ -s "$cv_dir/table1.json" ] || {
    echo "table1_torch: clustervae-table1 wrote no table1.json (see $prefix/clustervae-table1.txt)" >&2; exit 1; }
  cp "$cv_dir/table1.json" "$prefix/clustervae-table1.json"
  cv_json="$prefix/clustervae-table1.json"
fi

# ---- the PyTorch reference over the same cells ----------------------------------------------------
torch_jsons=()
for ds in ${datasets//,/ }; do
  for m in ${methods//,/ }; do
    for s in ${seeds//,/ }; do
      json="$prefix/torch-$ds-$m-seed$s.json"
      echo "table1_torch: torch $ds $m seed $s" >&2
      "$python" "$repo/bench/torch_reference.py" --config "$repo/configs/${ds}_$m.json" --seed "$s" \
        --data-dir "$data_dir" --threads "$threads" --device "$device" --quiet --out "$json" \
        "${torch_flags[@]}"
      torch_jsons+=("$json")
    done
  done
done

"$python" "$repo/bench/table1_compare.py" "$cv_json" "$prefix" "${torch_jsons[@]}"

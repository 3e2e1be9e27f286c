#!/usr/bin/env bash
# clustervae against PyTorch, same machine, same run: one epoch of each method, alternating between
# the engines, several repetitions. Prints per method the median seconds of each engine, the ratio
# and images/s, writes bench/results/side-by-side-<device>-<date>.json (machine, CPU/GPU model,
# versions, commit, raw timings), and ends with the line
#   speedup_vs_torch=<median over methods of (torch's best median seconds / clustervae's)>
#
#   bash bench/side_by_side.sh                 # CPU (the default), from a fresh clone, as root
#   bash bench/side_by_side.sh --accuracy ...  # the accuracy comparison instead (bench/table1_torch.sh)
#
# Environment:
#   THREADS (2)        threads for both engines (clustervae threads=, torch.set_num_threads + BLAS)
#   REPEATS (3)        repetitions (each: every method, every engine)
#   METHODS ("vae beta cvae lambdahot kmeans movable")
#   DATASET (mnist)    TRAIN_LIMIT (0 = all 60000 images)
#   ARCH (mlp)         mlp, or conv: configs/<dataset>_<method>_conv.json for both engines
#   BATCH_SIZE         (unset = the configs' 128) for both engines, e.g. for throughput against batch size
#   DEVICE (cpu)       cpu, or cuda (clustervae device=cuda against PyTorch on the GPU; needs a
#                      CUDA build of PyTorch for $PYTHON — Debian's python3-torch is CPU-only)
#   TORCH_VARIANTS     the PyTorch set-ups to time; the first is "the default".
#                      cpu:  "openblas openblas-haswell openblas-zen openblas-openmp openblas-openmp-zen"
#                            openblas = Debian's OpenBLAS (pthreads), core chosen by OpenBLAS itself;
#                            -openmp = Debian's OpenMP build of OpenBLAS; -haswell/-zen/-sandybridge/
#                            -prescott = OPENBLAS_CORETYPE; +foreach = Adam(foreach=True)
#                      cuda: "eager compile compile-ro graphs"  (compile-ro = mode reduce-overhead,
#                            graphs = the whole step captured as one CUDA graph)
#   PYTHON             the interpreter with torch (cpu: /usr/bin/python3, Debian's)
#   COMMIT             recorded instead of `git rev-parse HEAD` (e.g. outside a git checkout)
#   BUILD_DIR          clustervae's build folder (build), e.g. one built from a clean commit
#   OMP_WAIT_POLICY etc. are passed to both engines unchanged and recorded.
set -euo pipefail
bench=side_by_side
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if [ "${1:-}" = "--accuracy" ]; then
  shift
  exec bash "$repo/bench/table1_torch.sh" "$@"
fi
bench_no_arguments "$@"

threads="${THREADS:-2}"
repeats="${REPEATS:-3}"
methods="${METHODS:-vae beta cvae lambdahot kmeans movable}"
dataset="${DATASET:-mnist}"
arch="${ARCH:-mlp}"
case "$arch" in
  mlp) config_suffix="" ;;
  conv) config_suffix="_conv" ;;
  *) echo "side_by_side: ARCH must be mlp or conv, not '$arch'" >&2; exit 2 ;;
esac
train_limit="${TRAIN_LIMIT:-0}"
batch_size="${BATCH_SIZE:-}"
bench_device
bin="$build_dir/clustervae-train"
if [ "$device" = cpu ]; then
  variants="${TORCH_VARIANTS:-openblas openblas-haswell openblas-zen openblas-openmp openblas-openmp-zen}"
else
  variants="${TORCH_VARIANTS:-eager compile compile-ro graphs}"
fi

# ---- prerequisites: PyTorch (Debian's on the CPU), the data, the build ----------------------------
# shellcheck source=bench/torch_setup.sh
source "$repo/bench/torch_setup.sh"

# ---- the torch variants (variant_setup) ----------------------------------------------------------
# shellcheck source=bench/torch_variants.sh
source "$repo/bench/torch_variants.sh"
for v in $variants; do variant_setup "$v" >/dev/null || exit 2; done

bench_scratch
raw="$scratch/raw.tsv"
: > "$raw"
stamp="$(bench_stamp)"
out="$(bench_results_dir)/side-by-side-$device${config_suffix}-$stamp.json"
load_before="$(bench_load_average)"

# First JSON object printed on stdout by either engine -> "seconds<TAB>images_per_second".
epoch_of() {
  "$python" -c '
import json, sys
text = open(sys.argv[1]).read()
d, _ = json.JSONDecoder().raw_decode(text[text.index("{"):])
print("%r\t%r" % (d["epoch_seconds"][0], d["images_per_second"]))' "$1"
}

run_clustervae() {  # method repetition
  local log="$scratch/cv-$1-$2.txt"
  "$bin" "$repo/configs/${dataset}_$1${config_suffix}.json" epochs=1 evaluate=false threads="$threads" device="$device" \
    train_limit="$train_limit" ${batch_size:+batch_size=$batch_size} progress=off out="$scratch/runs" data_dir="$data_dir" > "$log" 2> "$log.err" || {
      echo "side_by_side: clustervae failed on $1:" >&2; cat "$log.err" >&2; exit 1; }
  printf '%s\tclustervae\tcpp\t%s\t%s\t%s\n' "$1" "$2" "$(epoch_of "$log")" "$log" >> "$raw"
  rm -rf "$scratch/runs"
}

run_torch() {  # method repetition variant
  local envs flags json="$scratch/torch-$1-$2-$3.json"
  envs="$(variant_env "$3")"
  flags="$(variant_flags "$3")"
  # shellcheck disable=SC2086  # envs and flags are word lists by construction
  env $envs "$python" "$repo/bench/torch_reference.py" --config "$repo/configs/${dataset}_$1${config_suffix}.json" \
    --data-dir "$data_dir" --epochs 1 --threads "$threads" --device "$device" --train-limit "$train_limit" \
    ${batch_size:+--batch-size $batch_size} --time-only --quiet --out "$json" $flags 2> "$json.err" || {
      echo "side_by_side: torch ($3) failed on $1:" >&2; cat "$json.err" >&2; exit 1; }
  printf '%s\ttorch\t%s\t%s\t%s\t%s\n' "$1" "$3" "$2" "$(epoch_of "$json")" "$json" >> "$raw"
}

echo "side_by_side: $device, arch $arch, $threads threads, batch ${batch_size:-128}, $repeats repetitions, methods: $methods; torch variants: $variants" >&2
echo "side_by_side: load average before: $load_before" >&2
for rep in $(seq "$repeats"); do
  for method in $methods; do
    # shellcheck disable=SC2086  # $variants is a word list
    for e in $(bench_order "$rep" clustervae $variants); do
      if [ "$e" = clustervae ]; then run_clustervae "$method" "$rep"; else run_torch "$method" "$rep" "$e"; fi
      tail -1 "$raw" | awk -F'\t' '{printf "  rep %s %-10s %-10s %-22s %8.3f s %9.0f img/s\n", $4, $1, $2, $3, $5, $6}' >&2
    done
  done
done

# ---- metadata and the summary --------------------------------------------------------------------
commit="${COMMIT:-$(bench_git_head)}"
LOAD_BEFORE="$load_before" LOAD_AFTER="$(bench_load_average)" COMMIT_ID="$commit" \
THREADS_USED="$threads" REPEATS_USED="$repeats" DEVICE_USED="$device" DATASET_USED="$dataset" \
ARCH_USED="$arch" TRAIN_LIMIT_USED="$train_limit" BATCH_USED="${batch_size:-128 (configs)}" STAMP="$stamp" \
"$python" - "$scratch/meta.json" "$repo/bench" <<'EOF'
import os, sys
sys.path.insert(0, sys.argv[2])  # bench_common.py (this script comes on stdin)
import bench_common
import torch, numpy
meta = {
    "what": "one epoch of each method (batch_size below), seconds of the training loop including the "
            "per-epoch re-fit (kmeans, movable); the engines alternate, each run a fresh process",
    "date": os.environ["STAMP"],
    "device": os.environ["DEVICE_USED"], "dataset": os.environ["DATASET_USED"], "arch": os.environ["ARCH_USED"],
    "train_limit": int(os.environ["TRAIN_LIMIT_USED"]), "batch_size": os.environ["BATCH_USED"],
    "threads": int(os.environ["THREADS_USED"]), "repeats": int(os.environ["REPEATS_USED"]),
    "machine": bench_common.machine(simd=("avx2", "fma", "avx512f", "avx512_bf16")),
    "load_average_before": os.environ["LOAD_BEFORE"], "load_average_after": os.environ["LOAD_AFTER"],
    "environment": bench_common.recorded_environment(),
    "versions": bench_common.versions(torch, numpy, torch_onednn=True),
    "commit": os.environ["COMMIT_ID"],
}
bench_common.write_json(meta, sys.argv[1])
EOF
"$python" "$repo/bench/side_by_side_summary.py" "$raw" "$scratch/meta.json" "$out"

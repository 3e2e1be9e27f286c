#!/usr/bin/env bash
# Throughput against batch size, both engines: bench/side_by_side.sh once per batch size
# (same method, same threads, the engines alternating inside each run), then one JSON with every
# run's summary and raw timings and an SVG plot of images/s against batch size (log2 axis):
#   bench/results/batch-sweep-<device>-<date>.json and .svg
#
#   THREADS=1 bash bench/batch_sweep.sh
#
# Environment:
#   BATCH_SIZES ("32 64 128 256 512 1024")
#   METHOD (lambdahot)        one method (the MLP VAE of configs/<dataset>_<method>.json)
#   TORCH_VARIANTS            cpu default "openblas openblas-zen" (the two best set-ups of the full
#                             side-by-side run), cuda default "eager graphs"
#   THREADS (1), REPEATS (3), TRAIN_LIMIT (20000), DATASET, DEVICE, PYTHON, COMMIT, BUILD_DIR:
#                             as in side_by_side.sh (passed on); OMP_WAIT_POLICY etc. passed on
# images/s is the training loop's (clustervae's images_per_second; the same span in PyTorch),
# median over REPEATS fresh processes per engine and batch size.
set -euo pipefail
bench=batch_sweep
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_no_arguments "$@"

batch_sizes="${BATCH_SIZES:-32 64 128 256 512 1024}"
method="${METHOD:-lambdahot}"
bench_device
if [ "$device" = cpu ]; then default_variants="openblas openblas-zen"; else default_variants="eager graphs"; fi
for b in $batch_sizes; do
  [[ "$b" =~ ^[1-9][0-9]*$ ]] || { echo "batch_sweep: batch size '$b' is not a positive integer" >&2; exit 2; }
done
export THREADS="${THREADS:-1}" REPEATS="${REPEATS:-3}" TRAIN_LIMIT="${TRAIN_LIMIT:-20000}"
export TORCH_VARIANTS="${TORCH_VARIANTS:-$default_variants}" DEVICE="$device" METHODS="$method"
export COMMIT="${COMMIT:-$(bench_git_head)}"
python="$(bench_python)"

out="$(bench_results_dir)/batch-sweep-$device-$(bench_stamp)"
runs=()
started=$SECONDS
for b in $batch_sizes; do
  echo "batch_sweep: batch $b (method $method, $THREADS threads, $REPEATS repetitions, train_limit $TRAIN_LIMIT, torch: $TORCH_VARIANTS)" >&2
  log="$(BATCH_SIZE="$b" bash "$repo/bench/side_by_side.sh")"
  echo "$log" >&2
  json="$(echo "$log" | sed -n 's/^written: //p')"
  [ -s "$json" ] || { echo "batch_sweep: side_by_side.sh wrote no results for batch $b" >&2; exit 1; }
  runs+=("$b=$json")
done
echo "batch_sweep: $((SECONDS - started)) s" >&2

"$python" - "$out.json" "$method" "${runs[@]}" <<'EOF'
import json, os, sys
out, method, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
points, runs = [], {}
for pair in pairs:
    batch, path = pair.split("=", 1)
    with open(path) as f:
        run = json.load(f)
    s = run["summary"][method]
    point = {"batch_size": int(batch),
             "clustervae": {"median_images_per_second": s["clustervae"]["median_images_per_second"],
                            "median_seconds": s["clustervae"]["median_seconds"]},
             "torch": {v: {"median_images_per_second": t["median_images_per_second"],
                           "median_seconds": t["median_seconds"]} for v, t in s["torch"].items()},
             "torch_best_variant": s["torch_best_variant"], "ratio_vs_best": s["ratio_vs_best"],
             "load_average_before": run["load_average_before"],
             "load_average_after": run["load_average_after"]}
    for engine in ["clustervae"] + list(s["torch"]):
        rows = [r for r in run["raw"] if r["method"] == method and
                (r["engine"] == "clustervae" if engine == "clustervae" else r["variant"] == engine)]
        target = point["clustervae"] if engine == "clustervae" else point["torch"][engine]
        target["images_per_second"] = [r["images_per_second"] for r in rows]
    points.append(point)
    runs[batch] = run
    os.remove(path)  # kept whole inside the sweep's JSON below
first = runs[pairs[0].split("=", 1)[0]]
result = {"what": "throughput (images/s of the training loop) against batch size, one method, "
                  "both engines; each batch size one bench/side_by_side.sh run",
          "method": method, "dataset": first["dataset"], "device": first["device"],
          "threads": first["threads"], "repeats": first["repeats"],
          "train_limit": first["train_limit"], "machine": first["machine"],
          "environment": first["environment"], "versions": first["versions"],
          "commit": first["commit"], "torch_variants": first["torch_variants"],
          "points": points, "side_by_side_runs": runs}
with open(out, "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")
EOF
"$python" "$repo/bench/batch_sweep_plot.py" "$out.json" "$out.svg"
"$python" - "$out.json" <<'EOF' >&2
import json, sys
d = json.load(open(sys.argv[1]))
variants = list(d["points"][0]["torch"])
print(f"{'batch':>6} {'clustervae img/s':>17} " + " ".join(f"{'torch ' + v + ' img/s':>26}" for v in variants)
      + f" {'ratio best':>10}")
for p in d["points"]:
    print(f"{p['batch_size']:>6} {p['clustervae']['median_images_per_second']:>17.0f} "
          + " ".join(f"{p['torch'][v]['median_images_per_second']:>26.0f}" for v in variants)
          + f" {p['ratio_vs_best']:>10.2f}")
EOF
echo "written: $out.json"
echo "written: $out.svg"

#!/usr/bin/env bash
# How OpenMP's waiting threads fare on a quiet machine and beside one busy process: one epoch of
# the MNIST VAE on 30,000 images (evaluate=false), CPU backend, for each waiting policy — libgomp's
# own default (spin ~300,000 rounds before sleeping), OMP_WAIT_POLICY=passive, a short spin
# (GOMP_SPINCOUNT=1000), threads=1, and the binary's built-in default — alternating, REPEATS
# times, quiet then busy. Writes
# bench/results/thread-policy-<date>.json (machine, commit, every timing) and prints medians.
# The binary sets its own default (apps/openmp_defaults.cpp) only when neither variable is set,
# so each policy here is named explicitly; "libgomp-default" is GOMP_SPINCOUNT=300000.
#   REPEATS (3)  TRAIN_LIMIT (30000)
set -euo pipefail
bench=thread_policy
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bin="$repo/build/clustervae-train"
bench_need_binary "$bin"
repeats="${REPEATS:-3}"
limit="${TRAIN_LIMIT:-30000}"
scratch="$(mktemp -d)"
busy_pid=""
# Not bench_scratch: this trap also stops the busy loop when the script is cut short.
trap '[ -n "$busy_pid" ] && kill "$busy_pid" 2>/dev/null; rm -rf "$scratch"' EXIT
out="$(bench_results_dir)/thread-policy-$(bench_stamp).json"
policies=("libgomp-default:GOMP_SPINCOUNT=300000" "passive:OMP_WAIT_POLICY=passive"
          "spin-1000:GOMP_SPINCOUNT=1000" "threads=1:GOMP_SPINCOUNT=300000" "built-in:-")
rows="$scratch/rows.tsv"
for load in quiet busy; do
  if [ "$load" = busy ]; then
    (while :; do :; done) &  # one process that never sleeps, as another job on the machine
    busy_pid=$!
  fi
  for rep in $(seq 1 "$repeats"); do
    for entry in "${policies[@]}"; do
      name="${entry%%:*}"; setting="${entry#*:}"
      threads=0; [ "$name" = "threads=1" ] && threads=1
      [ "$setting" = - ] && setting="CLUSTERVAE_THREAD_POLICY_BENCH=1"  # no OpenMP variable: the binary's own
      seconds=$(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "$setting" "$bin" "$repo/configs/mnist_vae.json" device=cpu epochs=1 train_limit="$limit" \
        evaluate=false progress=off threads="$threads" out="$scratch/runs" 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["epoch_seconds"][0])')
      printf '%s\t%s\t%s\t%s\n' "$load" "$name" "$rep" "$seconds" | tee -a "$rows" >&2
    done
  done
  if [ -n "$busy_pid" ]; then kill "$busy_pid"; wait "$busy_pid" 2>/dev/null || true; busy_pid=""; fi
done
python3 - "$rows" "$out" "$(nproc)" "$(bench_cpu_model)" "$(bench_git_head)" "$limit" <<'PY'
import json, statistics, sys
rows_path, out, cores, cpu, commit, limit = sys.argv[1:]
rows = [line.rstrip("\n").split("\t") for line in open(rows_path) if line.strip()]
times = {}
for load, name, rep, seconds in rows:
    times.setdefault(load, {}).setdefault(name, []).append(float(seconds))
medians = {load: {name: statistics.median(v) for name, v in by.items()} for load, by in times.items()}
json.dump({"what": "one epoch, MNIST VAE, %s training images, CPU backend (all cores unless threads=1); "
                   "busy = one other process spinning on a core" % limit,
           "cores": int(cores), "cpu": cpu, "commit": commit, "seconds": times, "median_seconds": medians},
          open(out, "w"), indent=2)
for load in medians:
    print(load + ": " + ", ".join("%s %.2f s" % (n, s) for n, s in medians[load].items()))
print("written: " + out)
PY

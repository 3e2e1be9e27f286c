#!/usr/bin/env python3
"""Summarises bench/lloyd_side_by_side.sh: per size and engine the median ms per Lloyd iteration
(assign + accumulate), the ratio to clustervae, GFLOP/s against each engine's measured sgemm; writes
the results JSON and prints the table.

argv[1]: a TSV, one line per process: engine, size (N:D:K, or "limits"), repetition (or
before/after for limits), json file. argv[2]: the output JSON. The run's settings come from the
environment (THREADS_USED, REPEATS_USED, ITERATIONS_USED, DEVICE_USED, STAMP, COMMIT_ID,
LOAD_BEFORE, LOAD_AFTER, BUILD_USED).

Per process the median over its iterations; per engine and size the median over the processes.
ratio = the best PyTorch median / clustervae's median (above 1: clustervae is faster).
GFLOP/s counts 2·N·K·D per iteration: the cross term p·c that a GEMM route computes (clustervae's
direct loop does a subtract, a multiply and an add per term, 1.5 times that, not counted), so
"of sgemm" says how close an engine comes to a distance computation limited by its own sgemm.
"""
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_common.py, from any cwd
import bench_common  # noqa: E402


def metadata():
    import numpy
    import torch
    env = os.environ
    return {
        "what": "one Lloyd iteration = assignment (argmin_k ||p_i - c_k||^2 and that distance) + "
                "accumulation (per-cluster sums and counts); centroids fixed, so every iteration "
                "does the same work; each engine in fresh processes, alternating",
        "date": env.get("STAMP"), "device": env.get("DEVICE_USED"),
        "threads": int(env.get("THREADS_USED", "0")), "repeats": int(env.get("REPEATS_USED", "0")),
        "iterations_per_process": int(env.get("ITERATIONS_USED", "0")),
        "machine": bench_common.machine(),
        "load_average_before": env.get("LOAD_BEFORE"), "load_average_after": env.get("LOAD_AFTER"),
        "environment": bench_common.recorded_environment(),
        "versions": bench_common.versions(torch, numpy),
        "commit": env.get("COMMIT_ID"), "clustervae_build": env.get("BUILD_USED"),
    }


def per_iteration(entry):
    return [a + b for a, b in zip(entry["assign_seconds"], entry["accumulate_seconds"])]


def main():
    list_path, out_path = sys.argv[1:3]
    runs, limits = [], {}
    with open(list_path) as f:
        for line in f:
            if not line.strip():
                continue
            engine, size, rep, path = line.rstrip("\n").split("\t")
            with open(path) as jf:
                data = json.load(jf)
            if size == "limits":
                limits.setdefault(engine, {})[rep] = data
            else:
                runs.append({"engine": engine, "size": size, "repetition": int(rep), "data": data})

    sgemm = {e: statistics.median(v["sgemm_2048_gflop_per_s"] for v in d.values())
             for e, d in limits.items()}
    engines, sizes = [], []
    for r in runs:
        if r["engine"] not in engines:
            engines.append(r["engine"])
        if r["size"] not in sizes:
            sizes.append(r["size"])
    torch_engines = [e for e in engines if e != "clustervae"]

    summary = {}
    for size in sizes:
        n, dim, k = (int(x) for x in size.split(":"))
        flops = 2.0 * n * k * dim
        entry = {"n": n, "dim": dim, "k": k, "gemm_equivalent_flop_per_iteration": flops, "engines": {}}
        for e in engines:
            mine = [r for r in runs if r["engine"] == e and r["size"] == size]
            if not mine:
                continue
            lloyd = [r["data"]["lloyd"][0] for r in mine]
            med = statistics.median(statistics.median(per_iteration(x)) for x in lloyd)
            blas_engine = e if e == "clustervae" else "torch-" + e.split("-", 2)[2]
            info = {"median_ms_per_iteration": 1e3 * med,
                    "median_ms_assign": 1e3 * statistics.median(
                        statistics.median(x["assign_seconds"]) for x in lloyd),
                    "median_ms_accumulate": 1e3 * statistics.median(
                        statistics.median(x["accumulate_seconds"]) for x in lloyd),
                    "gflop_per_s": flops / med / 1e9,
                    "sgemm_gflop_per_s": sgemm.get(blas_engine),
                    "counts": lloyd[0]["counts"], "inertia": lloyd[0]["inertia"],
                    "per_process_median_ms": [1e3 * statistics.median(per_iteration(x)) for x in lloyd]}
            if info["sgemm_gflop_per_s"]:
                info["fraction_of_sgemm"] = info["gflop_per_s"] / info["sgemm_gflop_per_s"]
            checked = [x for x in lloyd if "assignments_differing_from_float64" in x]
            if checked:
                info["assignments_differing_from_float64"] = checked[0]["assignments_differing_from_float64"]
                info["checked_points"] = checked[0]["checked_points"]
            if e != "clustervae" and "clustervae" in entry["engines"]:
                # At least this many points are assigned differently from clustervae.
                info["assignment_differences_vs_clustervae_at_least"] = sum(
                    abs(a - b) for a, b in zip(info["counts"], entry["engines"]["clustervae"]["counts"])) // 2
            entry["engines"][e] = info
        cv = entry["engines"].get("clustervae")
        present = [e for e in torch_engines if e in entry["engines"]]
        if cv and present:
            best = min(present, key=lambda e: entry["engines"][e]["median_ms_per_iteration"])
            entry["torch_best"] = best
            entry["ratio_torch_best_over_clustervae"] = (
                entry["engines"][best]["median_ms_per_iteration"] / cv["median_ms_per_iteration"])
            for e in present:
                entry["engines"][e]["ratio_over_clustervae"] = (
                    entry["engines"][e]["median_ms_per_iteration"] / cv["median_ms_per_iteration"])
        summary[size] = entry

    result = metadata()
    result["sgemm_2048_gflop_per_s"] = sgemm
    result["limits"] = limits
    result["summary"] = summary
    result["raw"] = [{"engine": r["engine"], "size": r["size"], "repetition": r["repetition"],
                      "assign_seconds": r["data"]["lloyd"][0]["assign_seconds"],
                      "accumulate_seconds": r["data"]["lloyd"][0]["accumulate_seconds"]}
                     for r in runs]
    result["torch_blas"] = {e: d["before"].get("blas") for e, d in limits.items()
                            if e != "clustervae" and "before" in d}
    bench_common.write_json(result, out_path)

    print("sgemm 2048^3: " + ", ".join(f"{e} {v:.1f} GFLOP/s" for e, v in sgemm.items()))
    print(f"{'size N:D:K':<17} {'engine':<26} {'ms/iter':>9} {'assign':>9} {'accum':>8} "
          f"{'GFLOP/s':>8} {'of sgemm':>8} {'torch/cvae':>10}")
    for size, entry in summary.items():
        for e in ["clustervae"] + torch_engines:
            info = entry["engines"].get(e)
            if not info:
                continue
            ratio = info.get("ratio_over_clustervae")
            print(f"{size:<17} {e:<26} {info['median_ms_per_iteration']:>9.2f} "
                  f"{info['median_ms_assign']:>9.2f} {info['median_ms_accumulate']:>8.2f} "
                  f"{info['gflop_per_s']:>8.1f} {100 * info.get('fraction_of_sgemm', 0):>7.1f}% "
                  + (f"{ratio:>10.2f}" if ratio else f"{'':>10}"))
        if entry.get("torch_best"):
            print(f"{size:<17} best torch: {entry['torch_best']}, ratio "
                  f"{entry['ratio_torch_best_over_clustervae']:.2f}")
    print("(medians; ms per iteration = assign + accumulate; torch/cvae above 1: clustervae faster; "
          "GFLOP/s = 2NKD per iteration, against that engine's own sgemm)")
    print(f"written: {out_path}")


if __name__ == "__main__":
    main()

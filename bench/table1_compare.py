#!/usr/bin/env python3
"""Puts clustervae's Table 1 grid and the PyTorch reference's beside each other.

  table1_compare.py CLUSTERVAE_TABLE1_JSON OUT_PREFIX TORCH_JSON...

CLUSTERVAE_TABLE1_JSON is the table1.json written by clustervae-table1 (its "runs" hold each
cell's metrics.json); each TORCH_JSON is one bench/torch_reference.py output. Cells are matched by
(dataset, method, seed). Writes OUT_PREFIX.md and OUT_PREFIX.json and prints the markdown.

A difference is flagged when it is larger than both a fixed tolerance and twice the seeds' spread
(sqrt(std_a^2 + std_b^2); 0 with one seed): test BCE 1 % of clustervae's value, accuracies 3
points, NMI 0.05. The two implementations share no code and no random numbers (initial weights,
shuffles, noise, k-means++ seeding all differ), so single-seed cells differ by seed noise; a flag
says "look at this", not "this is wrong".
"""
import json
import math
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_common.py, from any cwd
import bench_common  # noqa: E402

METRICS = [  # key, label, scale, tolerance (absolute, in the printed unit; None = relative 1 %)
    ("test_bce_sampled", "test BCE (sampled)", 1.0, None),
    ("test_bce_mean", "test BCE (z = μ)", 1.0, None),
    ("argmax_accuracy", "argmax acc %", 100.0, 3.0),
    ("cluster_accuracy_hungarian", "cluster acc (Hungarian) %", 100.0, 3.0),
    ("nmi", "NMI", 1.0, 0.05),
    ("linear_probe_accuracy", "linear probe %", 100.0, 3.0),
]
METHOD_ORDER = ["vae", "beta", "cvae", "lambdahot", "kmeans", "movable"]
NAMES = {"vae": "Regular VAE", "beta": "Beta VAE (β=5)", "cvae": "Conditional VAE",
         "lambdahot": "Lambda-Hot VAE", "kmeans": "K-Means VAE", "movable": "Movable Lambda-Hot"}


def stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return mean, std, len(values)


def fmt(s, scale, digits):
    if s is None:
        return "–"
    mean, std, n = s
    text = f"{mean * scale:.{digits}f}"
    if n > 1:
        text += f" ± {std * scale:.{digits}f}"
    return text


def main():
    cv_path, out_prefix, torch_paths = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(cv_path) as f:
        cv_runs = json.load(f)["runs"]
    cells = {}  # (dataset, method) -> {"clustervae": {seed: metrics}, "torch": {seed: metrics}}
    for r in cv_runs:
        cells.setdefault((r["dataset"], r["method"]), {"clustervae": {}, "torch": {}})
        cells[(r["dataset"], r["method"])]["clustervae"][int(r["seed"])] = r["metrics"]
    for p in torch_paths:
        with open(p) as f:
            m = json.load(f)
        cells.setdefault((m["dataset"], m["method"]), {"clustervae": {}, "torch": {}})
        cells[(m["dataset"], m["method"])]["torch"][int(m["seed"])] = m

    datasets = []
    for ds, _ in cells:
        if ds not in datasets:
            datasets.append(ds)
    lines = ["# Table 1: clustervae beside the PyTorch reference", "",
             "Each cell: clustervae / PyTorch (mean ± std over seeds when more than one). "
             "Test BCE summed over pixels, mean over the test images; one sampled z (the paper's "
             "figure) and z = μ. ⚑ marks a difference beyond tolerance (see bench/README.md).", ""]
    report = {"clustervae_table1": os.path.abspath(cv_path), "cells": []}
    for ds in datasets:
        lines += [f"## {ds}", "",
                  "| method | seeds | " + " | ".join(label for _, label, _, _ in METRICS) + " | flagged |",
                  "|---|---|" + "---|" * len(METRICS) + "---|"]
        for method in METHOD_ORDER + sorted({m for d, m in cells if m not in METHOD_ORDER}):
            if (ds, method) not in cells:
                continue
            cell = cells[(ds, method)]
            seeds = sorted(set(cell["clustervae"]) | set(cell["torch"]))
            row = [NAMES.get(method, method), ",".join(map(str, seeds))]
            flagged = []
            entry = {"dataset": ds, "method": method, "seeds": seeds, "metrics": {}}
            for key, label, scale, tol in METRICS:
                a = stats([cell["clustervae"][s].get(key) for s in cell["clustervae"]])
                b = stats([cell["torch"][s].get(key) for s in cell["torch"]])
                digits = 3 if key == "nmi" else (2 if scale == 1.0 else 1)
                mark = ""
                if a is not None and b is not None:
                    diff = (b[0] - a[0]) * scale
                    spread = 2 * math.hypot(a[1], b[1]) * scale
                    limit = max(abs(a[0] * scale) * 0.01 if tol is None else tol, spread)
                    if abs(diff) > limit:
                        mark = " ⚑"
                        flagged.append(f"{label} {diff:+.{digits}f}")
                    entry["metrics"][key] = {"clustervae": a[0], "torch": b[0], "difference": b[0] - a[0],
                                             "clustervae_std": a[1], "torch_std": b[1],
                                             "flagged": bool(mark)}
                if a is None and b is None:
                    row.append("–")
                else:
                    row.append(f"{fmt(a, scale, digits)} / {fmt(b, scale, digits)}{mark}")
            row.append("; ".join(flagged) if flagged else "–")
            lines.append("| " + " | ".join(row) + " |")
            report["cells"].append(entry)
        lines.append("")
    md = "\n".join(lines)
    bench_common.write_text(out_prefix + ".md", md + "\n")
    bench_common.write_json(report, out_prefix + ".json")
    print(md)
    print(f"written: {out_prefix}.md and {out_prefix}.json")


if __name__ == "__main__":
    main()

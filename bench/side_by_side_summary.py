#!/usr/bin/env python3
"""Summarises the raw timings of bench/side_by_side.sh: medians per method and engine, ratios,
images/s; writes the results JSON and prints the table. Last line: speedup_vs_torch=<median ratio>.

Input (argv[1]): a TSV with one line per timed epoch:
  method  engine  variant  repetition  seconds  images_per_second  json_file
(engine = clustervae | torch). argv[2]: a JSON file with the run's metadata. argv[3]: the output.

The ratio of a method is torch's median seconds / clustervae's median seconds (> 1: clustervae is
faster). "best" is, per method, the torch variant with the lowest median; the speed-up that counts
is against it, so torch gets every advantage the variants offer.
"""
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_common.py, from any cwd
import bench_common  # noqa: E402


def main():
    raw_path, meta_path, out_path = sys.argv[1:4]
    with open(meta_path) as f:
        meta = json.load(f)
    rows = []
    with open(raw_path) as f:
        for line in f:
            if not line.strip():
                continue
            method, engine, variant, rep, seconds, ips, json_file = line.rstrip("\n").split("\t")
            rows.append({"method": method, "engine": engine, "variant": variant,
                         "repetition": int(rep), "seconds": float(seconds),
                         "images_per_second": float(ips), "json": json_file})

    methods = []
    for r in rows:
        if r["method"] not in methods:
            methods.append(r["method"])
    variants = []
    for r in rows:
        if r["engine"] == "torch" and r["variant"] not in variants:
            variants.append(r["variant"])
    default_variant = variants[0] if variants else None

    # BLAS / library details per torch variant, from the first run of each.
    variant_details = {}
    for r in rows:
        if r["engine"] == "torch" and r["variant"] not in variant_details:
            try:
                with open(r["json"]) as f:
                    variant_details[r["variant"]] = json.load(f).get("torch", {})
                variant_details[r["variant"]].pop("epochs_log", None)
            except (OSError, ValueError):
                variant_details[r["variant"]] = {}

    def pick(method, engine, variant=None):
        return [r for r in rows if r["method"] == method and r["engine"] == engine
                and (variant is None or r["variant"] == variant)]

    summary = {}
    for m in methods:
        cv = pick(m, "clustervae")
        entry = {"clustervae": {"median_seconds": statistics.median(r["seconds"] for r in cv),
                                "median_images_per_second":
                                    statistics.median(r["images_per_second"] for r in cv),
                                "seconds": [r["seconds"] for r in cv]},
                 "torch": {}}
        for v in variants:
            tv = pick(m, "torch", v)
            if not tv:
                continue
            entry["torch"][v] = {"median_seconds": statistics.median(r["seconds"] for r in tv),
                                 "median_images_per_second":
                                     statistics.median(r["images_per_second"] for r in tv),
                                 "seconds": [r["seconds"] for r in tv]}
        best = min(entry["torch"], key=lambda v: entry["torch"][v]["median_seconds"])
        cvs = entry["clustervae"]["median_seconds"]
        entry["torch_best_variant"] = best
        entry["ratio_vs_best"] = entry["torch"][best]["median_seconds"] / cvs
        if default_variant in entry["torch"]:
            entry["ratio_vs_default"] = entry["torch"][default_variant]["median_seconds"] / cvs
        summary[m] = entry

    speedup = statistics.median(summary[m]["ratio_vs_best"] for m in methods)
    speedup_default = (statistics.median(summary[m]["ratio_vs_default"] for m in methods)
                       if all("ratio_vs_default" in summary[m] for m in methods) else None)
    result = dict(meta)
    result["torch_variants"] = variant_details
    result["default_variant"] = default_variant
    result["summary"] = summary
    result["speedup_vs_torch"] = speedup
    result["speedup_vs_torch_default"] = speedup_default
    result["raw"] = [{k: v for k, v in r.items() if k != "json"} for r in rows]
    bench_common.write_json(result, out_path)

    head = (f"{'method':<10} {'clustervae s':>12} {'torch ' + str(default_variant) + ' s':>24} "
            f"{'torch best s':>12}  {'best variant':<20} {'ratio dflt':>10} {'ratio best':>10} "
            f"{'cvae img/s':>10} {'torch img/s':>11}")
    print(head)
    for m in methods:
        e = summary[m]
        best = e["torch_best_variant"]
        dflt = e["torch"].get(default_variant, {}).get("median_seconds", float("nan"))
        print(f"{m:<10} {e['clustervae']['median_seconds']:>12.3f} {dflt:>24.3f} "
              f"{e['torch'][best]['median_seconds']:>12.3f}  {best:<20} "
              f"{e.get('ratio_vs_default', float('nan')):>10.2f} {e['ratio_vs_best']:>10.2f} "
              f"{e['clustervae']['median_images_per_second']:>10.0f} "
              f"{e['torch'][best]['median_images_per_second']:>11.0f}")
    if speedup_default is not None:
        print(f"speedup_vs_torch_default={speedup_default:.2f}")
    print(f"written: {out_path}")
    print(f"speedup_vs_torch={speedup:.2f}")


if __name__ == "__main__":
    main()

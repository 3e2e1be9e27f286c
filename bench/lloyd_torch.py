#!/usr/bin/env python3
"""The PyTorch peer of clustervae's Lloyd iteration (bench/lloyd_side_by_side.sh runs both).

One Lloyd iteration, as a plain PyTorch user writes it:
  assign      cdist:  d = torch.cdist(points, centroids); distance, assignment = d.min(1)
              addmm:  d² = ‖c‖² − 2·points·centroidsᵀ (one addmm) ; min over k ; + ‖p‖²
                      (‖p‖² computed once, outside the loop: the points do not change)
  accumulate  sums = zeros(K, D).index_add_(0, assignment, points); counts = bincount(assignment)
The same work as clustervae's lloyd_assign (assignment and squared distance) + lloyd_accumulate
(sums and counts); centroids stay fixed, so every iteration does the same work.

The data are bench/backend_ops.cpp's lloyd_data, bit for bit (integer hash, double arithmetic,
one rounding to float), so both engines see the same points and starting centroids.

  lloyd_torch.py --sizes 60000:20:10,100000:32:256 --iterations 5 --threads 1 \\
      [--method cdist|addmm] [--device cpu|cuda] [--sgemm] [--check] [--out FILE]

--sgemm also times torch.mm on 2048³ (this BLAS's rate, beside clustervae's sgemm); --check also
counts, among the first 131072 points, those whose assignment differs from an exact float64 one
(the GEMM route's cancellation error), for this engine only. Prints a JSON object (or writes it to --out).
"""
import argparse
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_common.py, from any cwd
import bench_common  # noqa: E402  (it loads no torch: the thread variables below still come first)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="60000:20:10", help="N:D:K[,N:D:K...]")
    p.add_argument("--iterations", type=int, default=5, help="timed iterations per size")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (0 = PyTorch's default)")
    p.add_argument("--method", choices=("cdist", "addmm"), default="cdist")
    p.add_argument("--device", default="cpu")
    p.add_argument("--sgemm", action="store_true", help="also time torch.mm 2048^3")
    p.add_argument("--check", action="store_true",
                   help="also count assignments that differ from an exact float64 one")
    p.add_argument("--out", help="write the JSON here instead of stdout")
    args = p.parse_args()
    sizes = []
    for item in filter(None, args.sizes.split(",")):  # "" = no sizes (e.g. with --sgemm alone)
        try:
            n, d, k = (int(x) for x in item.split(":"))
        except ValueError:
            p.error(f"--sizes: '{item}' is not N:D:K")
        if not (1 <= k <= n and d >= 1):
            p.error(f"--sizes: '{item}' needs 1 <= K <= N and D >= 1")
        sizes.append((n, d, k))
    if args.iterations < 1:
        p.error("--iterations must be at least 1")
    return args, sizes


ARGS, SIZES = parse_args()
if ARGS.threads > 0:  # before the BLAS is loaded: OpenBLAS reads these once
    bench_common.set_thread_variables(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402

if ARGS.threads > 0:
    torch.set_num_threads(ARGS.threads)


def lloyd_hash(x):
    """(x * 2654435761 mod 2^32) / 2^32 for a uint64 array, as double."""
    return ((x * np.uint64(2654435761)) & np.uint64(0xFFFFFFFF)).astype(np.float64) / 4294967296.0


def lloyd_data(n, dim, k):
    """bench/backend_ops.cpp's lloyd_data: clustered points and starting centroids (float32)."""
    j = np.arange(dim, dtype=np.uint64)
    c = np.arange(k, dtype=np.uint64)[:, None]
    centres = 6.0 * lloyd_hash(c * np.uint64(dim) + j + np.uint64(1000003)) - 3.0  # (k, dim) double
    centroids = (centres + 0.25 * (lloyd_hash(c * np.uint64(dim) + j + np.uint64(7000001)) - 0.5))
    points = np.empty((n, dim), dtype=np.float32)
    chunk = 1 << 18
    for start in range(0, n, chunk):
        i = np.arange(start, min(n, start + chunk), dtype=np.uint64)[:, None]
        noise = 6.0 * (lloyd_hash(i * np.uint64(dim) + j) - 0.5)
        points[start:start + len(i)] = (centres[(i[:, 0] % np.uint64(k)).astype(np.int64)] + noise)
    return points, centroids.astype(np.float32)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_assign(method, points):
    if method == "cdist":
        def assign(centroids):
            distance, assignment = torch.cdist(points, centroids).min(1)
            return assignment, distance * distance
        return assign
    point_norms = (points * points).sum(1)  # once: the points are the same every iteration

    def assign(centroids):
        d2 = torch.addmm((centroids * centroids).sum(1), points, centroids.t(), beta=1, alpha=-2)
        distance, assignment = d2.min(1)
        return assignment, (distance + point_norms).clamp_(min=0)
    return assign


CHECK_POINTS = 131072  # --check looks at the first this many points


def exact_assignment(points, centroids):
    """argmin_k of the float64 squared distance by direct differences, in chunks (lowest k on ties)."""
    p64, c64 = points[:CHECK_POINTS].double().cpu(), centroids.double().cpu()
    out = torch.empty(p64.shape[0], dtype=torch.long)
    for start in range(0, p64.shape[0], 2048):
        block = p64[start:start + 2048]
        out[start:start + 2048] = ((block[:, None, :] - c64[None, :, :]) ** 2).sum(2).argmin(1)
    return out


def one_size(n, dim, k, device):
    host_points, host_centroids = lloyd_data(n, dim, k)
    points = torch.from_numpy(host_points).to(device)
    centroids = torch.from_numpy(host_centroids).to(device)
    assign = make_assign(ARGS.method, points)
    assign_s, accumulate_s = [], []
    with torch.inference_mode():
        sync(device)
        for it in range(-2, ARGS.iterations):
            t0 = time.perf_counter()
            assignment, distance = assign(centroids)
            sync(device)
            t1 = time.perf_counter()
            sums = torch.zeros(k, dim, device=device, dtype=points.dtype).index_add_(0, assignment, points)
            counts = torch.bincount(assignment, minlength=k)
            sync(device)
            t2 = time.perf_counter()
            if it >= 0:
                assign_s.append(t1 - t0)
                accumulate_s.append(t2 - t1)
        result = {"n": n, "dim": dim, "k": k, "assign_seconds": assign_s,
                  "accumulate_seconds": accumulate_s,
                  "counts": [int(x) for x in counts.cpu().tolist()],
                  "inertia": float(distance.double().sum().item())}
        del sums
        if ARGS.check:
            exact = exact_assignment(points, centroids)
            result["checked_points"] = int(exact.shape[0])
            result["assignments_differing_from_float64"] = int(
                (assignment[:CHECK_POINTS].cpu() != exact).sum().item())
    total = sorted(a + b for a, b in zip(assign_s, accumulate_s))
    print(f"lloyd_torch {ARGS.method} {n} x {dim}, K={k}: median {total[len(total) // 2] * 1e3:.3f} ms "
          f"per iteration (assign + accumulate)", file=sys.stderr)
    return result


def sgemm_gflops(device):
    a = torch.rand(2048, 2048, device=device) * 2 - 1
    b = torch.rand(2048, 2048, device=device) * 2 - 1
    times = []
    with torch.inference_mode():
        for r in range(7):
            sync(device)
            t0 = time.perf_counter()
            torch.mm(a, b)
            sync(device)
            if r >= 2:
                times.append(time.perf_counter() - t0)
    return 2.0 * 2048 ** 3 / statistics.median(times) / 1e9


def main():
    device = torch.device(ARGS.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("lloyd_torch: --device cuda but this PyTorch sees no CUDA device")
    result = {"engine": "torch", "method": ARGS.method, "device": str(device),
              "device_name": (torch.cuda.get_device_name(device) if device.type == "cuda"
                              else platform.processor() or "cpu"),
              "threads": torch.get_num_threads(), "torch": torch.__version__,
              "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
              "blas": bench_common.blas_description() if device.type == "cpu" else None}
    if ARGS.sgemm:
        result["sgemm_2048_gflop_per_s"] = sgemm_gflops(device)
        print(f"lloyd_torch: torch.mm 2048^3 {result['sgemm_2048_gflop_per_s']:.1f} GFLOP/s",
              file=sys.stderr)
    result["lloyd"] = [one_size(n, d, k, device) for n, d, k in SIZES]
    bench_common.write_json(result, ARGS.out)


if __name__ == "__main__":
    main()

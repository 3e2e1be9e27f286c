#!/usr/bin/env python3
"""What ptxas says each kernel needs on each architecture the build targets, and whether it fits.

   kernel_resources.py --nvcc NVCC --source REPO [--archs 80,90] [--max-threads 256] [--jobs 2]

Compiles every kernels/*.cu for each sm_XX with `-Xptxas -v` (no GPU needed) and reads, per entry
function: registers, static shared memory, stack frame and spills. A kernel fails the check when
  - it spills (spill stores or loads above 0 bytes: local-memory traffic in the inner loops),
  - its static shared memory is over 48 KiB (the most a block gets without an opt-in attribute),
  - registers × max-threads exceed the 65,536 registers of an SM, so a block of that size could not
    launch at all (max-threads: 256, the largest block the CUDA emulation lets a kernel launch,
    so every launcher in kernels/ is held to it in CI).
Prints one line per kernel and architecture, then the failures. Exit 0 all fit, 1 something does
not, 77 no nvcc (ctest reports the test as skipped), 2 bad arguments."""
import argparse
import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

REGISTERS_PER_SM = 65536
SHARED_BYTES_PER_BLOCK = 48 * 1024

ENTRY = re.compile(r"Compiling entry function '([^']+)' for 'sm_(\d+)'")
FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
USED = re.compile(r"Used (\d+) registers(?:, used \d+ barriers)?(?:, (\d+) bytes smem)?")


def readable(mangled):
    """The kernel's own name out of the mangled one (c++filt when present)."""
    if shutil.which("c++filt"):
        name = subprocess.run(["c++filt", mangled], capture_output=True, text=True).stdout.strip()
        depth = 0
        for i in range(len(name) - 1, -1, -1):  # cut the parameter list: the "(" matching the last ")"
            depth += {")": 1, "(": -1}.get(name[i], 0)
            if depth == 0 and name[i] == "(":
                name = name[:i]
                break
        return name.split("::")[-1] or mangled
    return mangled


def compile_one(nvcc, source, cu, arch, scratch):
    out = os.path.join(scratch, f"{os.path.basename(cu)}.{arch}.o")
    command = [nvcc, "-std=c++17", f"-I{source}", f"--generate-code=arch=compute_{arch},code=sm_{arch}",
               "-Xptxas", "-v", "-c", cu, "-o", out]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        return cu, arch, None, done.stderr
    kernels, current = [], None
    for line in done.stderr.splitlines():
        m = ENTRY.search(line)
        if m:
            current = {"kernel": readable(m.group(1)), "file": os.path.relpath(cu, source), "arch": arch,
                       "registers": 0, "smem": 0, "stack": 0, "spills": 0}
            kernels.append(current)
            continue
        if current is None:
            continue
        m = FRAME.search(line)
        if m:
            current["stack"] = int(m.group(1))
            current["spills"] = int(m.group(2)) + int(m.group(3))
        m = USED.search(line)
        if m:
            current["registers"] = int(m.group(1))
            current["smem"] = int(m.group(2) or 0)
    return cu, arch, kernels, ""


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nvcc", default="nvcc")
    p.add_argument("--source", required=True)
    p.add_argument("--archs", default="80,90", help="comma or semicolon separated, as CMake's list")
    p.add_argument("--max-threads", type=int, default=256)
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args()
    nvcc = shutil.which(args.nvcc) or (args.nvcc if os.access(args.nvcc, os.X_OK) else None)
    if not nvcc:
        print(f"skipped: no nvcc ('{args.nvcc}' not found): the kernels' resources are not checked")
        return 77
    archs = [a for a in re.split(r"[,;]", args.archs) if a]
    if not archs or not all(a.isdigit() for a in archs):
        print(f"kernel_resources: --archs '{args.archs}': give numbers such as 80,90", file=sys.stderr)
        return 2
    sources = sorted(glob.glob(os.path.join(args.source, "kernels", "*.cu")))
    if not sources:
        print(f"kernel_resources: no kernels/*.cu under {args.source}", file=sys.stderr)
        return 2
    failures, rows = [], []
    with tempfile.TemporaryDirectory() as scratch, \
            concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        jobs = [pool.submit(compile_one, nvcc, args.source, cu, arch, scratch) for cu in sources for arch in archs]
        for job in jobs:
            cu, arch, kernels, error = job.result()
            if kernels is None:
                failures.append(f"{os.path.relpath(cu, args.source)} sm_{arch}: nvcc failed:\n{error}")
                continue
            rows.extend(kernels)
    print(f"{'kernel':34} {'file':24} {'arch':>5} {'regs':>5} {'smem':>7} {'stack':>6} {'spills':>7}")
    for k in rows:
        print(f"{k['kernel'][:34]:34} {k['file'][:24]:24} {'sm_' + k['arch']:>5} {k['registers']:5d} "
              f"{k['smem']:7d} {k['stack']:6d} {k['spills']:7d}")
        where = f"{k['kernel']} ({k['file']}, sm_{k['arch']})"
        if k["spills"] > 0:
            failures.append(f"{where}: spills {k['spills']} bytes to local memory")
        if k["smem"] > SHARED_BYTES_PER_BLOCK:
            failures.append(f"{where}: {k['smem']} bytes of static shared memory, over {SHARED_BYTES_PER_BLOCK}")
        if k["registers"] * args.max_threads > REGISTERS_PER_SM:
            failures.append(f"{where}: {k['registers']} registers x {args.max_threads} threads is over the "
                            f"{REGISTERS_PER_SM} registers of an SM")
    print(f"{len(rows)} kernel builds checked ({len(sources)} files x {len(archs)} architectures)")
    if not rows and not failures:
        failures.append("ptxas reported no entry function: the output format may have changed")
    for f in failures:
        print("FAILED: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

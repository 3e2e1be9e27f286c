#!/usr/bin/env bash
# The GPU check (issue 4): the one command to run on a lent GPU machine. It runs the `gpu` tests
# (every Backend op and a training step of each method, CUDA against the CPU reference), then the
# same tests under compute-sanitizer memcheck and racecheck (all but those tagged [large]: the
# report-sized t-SNE), and writes one JSON result
# (device, driver, CUDA / cuBLAS / cuDNN versions, commit, every test's result and time, the
# sanitizers' summaries) to bench/results/ — and to $OUT too, when set, so that it comes back.
#
# The GPU machine has nvcc, CMake, ninja and PyTorch but not Debian's packages (oneDNN, Catch2,
# nlohmann-json), so the tests are built here and carried there as a "device kit":
#
#   here:   scripts/gpu-check.sh --prepare        build with CUDA, pack build-gpu/device-kit/
#           (BUILD_DIR overrides build-gpu; JOBS the parallel jobs, default 2)
#   there:  scripts/gpu-check.sh                  with build-gpu/device-kit carried along
#           (also trains the Lambda-Hot VAE for ten epochs on the GPU and on the CPU, and compares,
#           then two epochs of the conv net on the GPU for its epoch time, then the GPU benchmarks:
#           bench_backend_ops device=cuda, Lloyd at N = 1M by both assignment routes, PyTorch eager
#           beside clustervae; last, the GPU run's report, whose t-SNE runs on the GPU)
#           (device tool: run command="bash scripts/gpu-check.sh", carry=["build-gpu/device-kit"])
#   here:   copy the JSON that came back into bench/results/ and commit it.
#   anywhere without a GPU: scripts/gpu-check.sh --dry-run   goes through every step it can,
#           writes the JSON to a scratch folder, and ends with "no GPU" (exit 2).
#
# The kit holds the test binary (CUDA runtime linked statically; cuBLAS taken from the machine)
# and the non-CUDA shared libraries it needs that a CUDA image may lack (oneDNN gzipped, libgomp,
# libOpenCL, libpng, …), plus BUILD_INFO (commit, build time, nvcc). Budget: GPU_CHECK_BUDGET_S
# (default 540 s): later steps are skipped, and say so in the JSON, rather than run past it.
#
# Exit status: 0 all clean; 1 a test failed or a sanitizer found errors; 2 no GPU, no kit, or a
# library missing; 4 the tests passed but a sanitizer could not run on this machine.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$repo/build-gpu}"
kit="$build/device-kit"
binary_name=clustervae_gpu_tests

say() { echo "gpu-check: $*"; }
die() { local code=$1; shift; echo "gpu-check: $*" >&2; exit "$code"; }

mode=run
case "${1:-}" in
  --prepare) mode=prepare ;;
  --dry-run) mode=dry-run ;;
  "") ;;
  -h|--help) sed -n '2,27p' "${BASH_SOURCE[0]}"; exit 0 ;;
  *) die 2 "unknown argument '$1' (use --prepare, --dry-run or nothing)" ;;
esac

# ---------------------------------------------------------------- here: build and pack the kit
prepare() {
  command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ] ||
    die 2 "--prepare needs nvcc (CUDA 13) to build the CUDA backend"
  say "building $binary_name with CUDA into $build"
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCLUSTERVAE_CUDA=ON >/dev/null
  cmake --build "$build" -j "${JOBS:-2}" --target "$binary_name" clustervae-train bench_backend_ops clustervae-report
  rm -rf "$kit"
  mkdir -p "$kit/lib" "$kit/data/mnist"
  cp "$build/$binary_name" "$build/clustervae-train" "$build/bench_backend_ops" "$build/clustervae-report" "$kit/"
  # The ten-epoch GPU-vs-CPU comparison trains on MNIST: gzipped (the reader takes .gz), ~11 MB.
  local f data_dir="${CLUSTERVAE_DATA:-$repo/data}"
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    [ -f "$data_dir/mnist/$f" ] || die 2 "no $data_dir/mnist/$f: run scripts/setup.sh first"
    gzip -9 -c "$data_dir/mnist/$f" > "$kit/data/mnist/$f.gz"
  done
  cp "$repo/configs/mnist_lambdahot.json" "$repo/configs/mnist_lambdahot_conv.json" "$kit/"
  # Every shared library the binary resolves here (ldd lists the whole closure, so oneDNN's own
  # libgomp and libOpenCL come too) except the C/C++ runtime (the GPU machine has a newer one) and
  # CUDA's (taken from the GPU machine, where they match its driver).
  local name path
  while read -r name path; do
    case "$name" in
      linux-vdso*|ld-linux*|libc.so*|libm.so*|libstdc++*|libgcc_s*|libpthread*|libdl.so*|librt.so*) continue ;;
      libcublas*|libcudart*|libcudnn*|libcuda.so*) continue ;;
    esac
    [ -f "$path" ] || die 2 "cannot find $name for the kit (ldd says '$path')"
    if [ "$name" = libdnnl.so.2 ]; then gzip -9 -c "$path" > "$kit/lib/$name.gz"; else cp -L "$path" "$kit/lib/$name"; fi
  done < <(ldd "$kit/$binary_name" "$kit/clustervae-train" | awk '$2 == "=>" {print $1, $3}' | sort -u)
  local commit="unknown" dirty="unknown"
  if command -v git >/dev/null 2>&1 && git -C "$repo" rev-parse HEAD >/dev/null 2>&1; then
    commit="$(git -C "$repo" rev-parse HEAD)"
    dirty="$(git -C "$repo" status --porcelain | wc -l | tr -d ' ')"
  fi
  local nvcc_bin; nvcc_bin="$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)"
  {
    echo "commit=$commit"
    echo "uncommitted_files=$dirty"
    echo "built_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "nvcc=$("$nvcc_bin" --version | tail -2 | head -1)"
    echo "cuda_architectures=$(grep -E '^CMAKE_CUDA_ARCHITECTURES:' "$build/CMakeCache.txt" | cut -d= -f2)"
    echo "build_host=$(uname -srm)"
  } > "$kit/BUILD_INFO"
  local kit_bytes; kit_bytes=$(du -sb "$kit" | cut -f1)
  [ "$kit_bytes" -le $((60 * 1024 * 1024)) ] ||
    die 1 "the kit is $kit_bytes bytes: over the 64 MiB the device tool carries (with room for the checkout)"
  say "kit ready: $kit ($(du -sh "$kit" | cut -f1)); on the GPU machine run:"
  say "  bash scripts/gpu-check.sh      with carry: [\"${kit#$repo/}\"]"
}

# ---------------------------------------------------------------- there: run the checks
# find_lib_dir LIBRARY PYTHON_MODULE DIR...: the first DIR holding LIBRARY, else the lib/ folder of
# the pip wheel PYTHON_MODULE (the ones PyTorch uses), else what ldconfig knows.
find_lib_dir() {
  local library=$1 module=$2 d; shift 2
  for d in "$@"; do
    [ -e "$d/$library" ] && { echo "$d"; return; }
  done
  if command -v python3 >/dev/null 2>&1; then
    d="$(python3 -c "import $module, os; print(os.path.join(list($module.__path__)[0], 'lib'))" 2>/dev/null || true)"
    [ -n "$d" ] && [ -e "$d/$library" ] && { echo "$d"; return; }
  fi
  d="$(ldconfig -p 2>/dev/null | awk -v lib="$library" '$1 == lib {print $NF; exit}')"
  [ -n "$d" ] && dirname "$d"
}

# Where this machine keeps libcublas.so.13 and libcudnn.so.9 (the conv ops).
find_cuda_libs() {
  find_lib_dir libcublas.so.13 nvidia.cublas /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
    /usr/local/cuda/lib /usr/local/cuda-13*/lib64 /usr/local/cuda-13*/targets/x86_64-linux/lib
}
find_cudnn_libs() {
  find_lib_dir libcudnn.so.9 nvidia.cudnn /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
    /usr/lib/x86_64-linux-gnu /usr/local/cuda-13*/lib64 /usr/local/cudnn*/lib /usr/local/cudnn*/lib64
}

find_sanitizer() {
  local s
  for s in "$(command -v compute-sanitizer 2>/dev/null || true)" /usr/local/cuda/bin/compute-sanitizer \
           /usr/local/cuda/compute-sanitizer/compute-sanitizer /usr/local/cuda-13*/bin/compute-sanitizer \
           /opt/nvidia/*/compute-sanitizer/compute-sanitizer; do
    [ -n "$s" ] && [ -x "$s" ] && { echo "$s"; return; }
  done
}

# clean | unavailable (no compute-sanitizer, it refuses this device, or no time was left) | errors,
# from exit code and log.
sanitizer_verdict() {
  if [ "$1" = 0 ]; then echo clean
  elif [ "$1" = 127 ] || [ "$1" = 125 ] || grep -qs "Device not supported" "$2"; then echo unavailable
  else echo errors; fi
}

# The whole check must end, JSON written, inside the device tool's 10-minute limit per command:
# every step after the tests runs only when its usual time still fits before the deadline
# (GPU_CHECK_BUDGET_S, default 540 s from the start), and no step's timeout reaches past it.
started_at=$(date +%s)
deadline=$((started_at + ${GPU_CHECK_BUDGET_S:-540}))
seconds_left() { local left=$((deadline - $(date +%s))); echo $((left > 0 ? left : 0)); }
# capped LIMIT: LIMIT, or what is left before the deadline when that is less (at least 1)
capped() { local left; left=$(seconds_left); [ "$left" -lt "$1" ] && echo $((left > 1 ? left : 1)) || echo "$1"; }
# fits SECONDS NAME: true when SECONDS still fit before the deadline, else says what is skipped
fits() {
  [ "$(seconds_left)" -ge "$1" ] && return 0
  say "skipped for time ($(seconds_left) s left of the budget): $2"
  skipped_for_time="${skipped_for_time:+$skipped_for_time, }$2"
  return 1
}
skipped_for_time=""

run_checks() {
  local dry=$1
  [ -x "$kit/$binary_name" ] ||
    die 2 "no device kit at $kit: run 'scripts/gpu-check.sh --prepare' where the project builds, then carry ${kit#$repo/}"
  local gpu_line=""
  if command -v nvidia-smi >/dev/null 2>&1; then
    gpu_line="$(nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>/dev/null | head -1 || true)"
  fi
  if [ -z "$gpu_line" ] && [ "$dry" = 0 ]; then
    die 2 "no GPU on this machine (nvidia-smi $(command -v nvidia-smi >/dev/null 2>&1 && echo 'lists no device' || echo 'is not installed')); nothing was run"
  fi
  [ -n "$gpu_line" ] && say "device: $gpu_line" || say "dry run: no GPU here; going through the steps anyway"

  local stamp; stamp="$(date -u +%Y%m%dT%H%M%SZ)"
  local out_dir
  if [ "$dry" = 1 ]; then out_dir="$(mktemp -d /tmp/gpu-check-dry-XXXXXX)"; else out_dir="$repo/bench/results/gpu-check-$stamp"; fi
  mkdir -p "$out_dir"

  # Libraries: the kit's (oneDNN unpacked into a scratch folder, not into the kit, which must stay
  # under the 64 MiB the device tool carries), then the machine's CUDA libraries.
  local libs="$kit/lib" unpacked; unpacked="$(mktemp -d /tmp/gpu-check-lib-XXXXXX)"
  if [ -f "$libs/libdnnl.so.2.gz" ]; then gzip -dc "$libs/libdnnl.so.2.gz" > "$unpacked/libdnnl.so.2"; fi
  libs="$unpacked:$libs"
  local cuda_libs; cuda_libs="$(find_cuda_libs || true)"
  local cudnn_libs; cudnn_libs="$(find_cudnn_libs || true)"
  say "CUDA libraries: ${cuda_libs:-not found}; cuDNN: ${cudnn_libs:-not found}"
  [ "$cudnn_libs" = "$cuda_libs" ] && cudnn_libs=""
  export LD_LIBRARY_PATH="$libs${cuda_libs:+:$cuda_libs}${cudnn_libs:+:$cudnn_libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  local missing; missing="$(ldd "$kit/$binary_name" | awk '/not found/ {print $1}' | tr '\n' ' ')"
  [ -z "$missing" ] || die 2 "$binary_name cannot load: $missing(LD_LIBRARY_PATH=$LD_LIBRARY_PATH)"

  export NVIDIA_TF32_OVERRIDE=0  # plain FP32 GEMMs whatever the machine's default
  local tests_rc=0 memcheck_rc=0 racecheck_rc=0 t0 t1 t3
  t0=$(date +%s)
  say "1/7 gpu tests"
  timeout "$(capped 300)" "$kit/$binary_name" -r xml -d yes -o "$out_dir/gpu-tests.xml" || tests_rc=$?
  t1=$(date +%s)
  local sanitizer; sanitizer="$(find_sanitizer || true)"
  if [ -z "$sanitizer" ]; then
    say "compute-sanitizer not found: memcheck and racecheck not run"
    memcheck_rc=127; racecheck_rc=127
  else
    say "2/7 compute-sanitizer memcheck ($sanitizer)"
    if fits 60 memcheck; then
      timeout "$(capped 240)" "$sanitizer" --tool memcheck --error-exitcode 86 --log-file "$out_dir/memcheck.log" \
        "$kit/$binary_name" "~[large]" -r compact > "$out_dir/memcheck-tests.log" 2>&1 || memcheck_rc=$?
    else
      memcheck_rc=125
    fi
    say "3/7 compute-sanitizer racecheck (the project's kernels)"
    if fits 60 racecheck; then
      timeout "$(capped 180)" "$sanitizer" --tool racecheck --kernel-name kns=cvae \
        --error-exitcode 86 --log-file "$out_dir/racecheck.log" \
        "$kit/$binary_name" "~[large]" -r compact > "$out_dir/racecheck-tests.log" 2>&1 || racecheck_rc=$?
    else
      racecheck_rc=125
    fi
  fi
  t3=$(date +%s)

  # 4: ten epochs of the Lambda-Hot VAE on MNIST on the GPU and on this machine's CPU; the
  # metrics must agree within the tolerance stated in the JSON (floating-point order differs, so
  # the two runs drift apart like two seeds, not bit for bit).
  local train_gpu_rc=127 train_cpu_rc=127
  if [ -x "$kit/clustervae-train" ] && [ "$dry" = 1 ]; then
    say "4/7 dry run: only checks that clustervae-train loads"
    "$kit/clustervae-train" --help > "$out_dir/train-gpu.log" 2>&1 && train_gpu_rc=0 || train_gpu_rc=$?
  elif [ -x "$kit/clustervae-train" ] && fits 100 "ten-epoch GPU vs CPU"; then
    say "4/7 ten epochs of the Lambda-Hot VAE on MNIST: GPU, then CPU"
    train_gpu_rc=0
    timeout "$(capped 150)" "$kit/clustervae-train" "$kit/mnist_lambdahot.json" device=cuda data_dir="$kit/data" \
      out="$out_dir/runs" name=gpu progress=lines > "$out_dir/train-gpu.log" 2>&1 || train_gpu_rc=$?
    train_cpu_rc=0
    timeout "$(capped 240)" "$kit/clustervae-train" "$kit/mnist_lambdahot.json" device=cpu data_dir="$kit/data" \
      out="$out_dir/runs" name=cpu progress=lines > "$out_dir/train-cpu.log" 2>&1 || train_cpu_rc=$?
  fi
  # 5: two epochs of the conv Lambda-Hot VAE (cuDNN) on the GPU: its epoch time (issue 5).
  local train_conv_rc=127
  if [ -x "$kit/clustervae-train" ] && [ -f "$kit/mnist_lambdahot_conv.json" ] && [ "$dry" = 0 ] &&
     fits 40 "conv epochs"; then
    say "5/7 two epochs of the conv Lambda-Hot VAE on the GPU"
    train_conv_rc=0
    timeout "$(capped 90)" "$kit/clustervae-train" "$kit/mnist_lambdahot_conv.json" device=cuda epochs=2 data_dir="$kit/data" \
      out="$out_dir/runs" name=conv-gpu progress=lines > "$out_dir/train-conv-gpu.log" 2>&1 || train_conv_rc=$?
    # and two MLP epochs without the cuBLASLt epilogue, for its before/after figure
    CLUSTERVAE_CUBLASLT=0 timeout "$(capped 60)" "$kit/clustervae-train" "$kit/mnist_lambdahot.json" device=cuda epochs=2 \
      data_dir="$kit/data" out="$out_dir/runs" name=unfused-gpu progress=lines \
      > "$out_dir/train-unfused-gpu.log" 2>&1 || train_conv_rc=$?
  fi
  # 6: the GPU benchmarks: every custom op against the device's copy bandwidth and cuBLAS sgemm,
  # Lloyd at the issue's size, and one epoch of PyTorch eager (MLP and conv) beside clustervae's.
  local bench_rc=127 torch_mlp_rc=127 torch_conv_rc=127
  if [ -x "$kit/bench_backend_ops" ] && [ "$dry" = 0 ] && fits 60 "benchmarks"; then
    say "6/7 GPU benchmarks (bench_backend_ops device=cuda; PyTorch eager, one epoch each)"
    bench_rc=0
    timeout "$(capped 90)" "$kit/bench_backend_ops" device=cuda out="$out_dir/backend-ops-cuda.json" \
      > "$out_dir/backend-ops-cuda.log" 2>&1 || bench_rc=$?
    # Lloyd by both assignment routes (the direct kernel; the GEMM route), to set the K at which
    # the CUDA backend switches (CLUSTERVAE_LLOYD_GEMM_MIN_K, engine/cuda/cuda_backend.cpp).
    CLUSTERVAE_LLOYD_GEMM_MIN_K=1000000000 timeout "$(capped 60)" "$kit/bench_backend_ops" device=cuda ops=lloyd \
      sizes=60000:20:10,60000:20:64,1048576:32:64,1048576:32:256 \
      out="$out_dir/lloyd-cuda.json" > "$out_dir/lloyd-cuda.log" 2>&1 || bench_rc=$?
    CLUSTERVAE_LLOYD_GEMM_MIN_K=1 timeout "$(capped 60)" "$kit/bench_backend_ops" device=cuda ops=lloyd \
      sizes=60000:20:10,60000:20:64,1048576:32:64,1048576:32:256 \
      out="$out_dir/lloyd-gemm-cuda.json" > "$out_dir/lloyd-gemm-cuda.log" 2>&1 || bench_rc=$?
    if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
      torch_mlp_rc=0; torch_conv_rc=0
      timeout "$(capped 90)" python3 "$repo/bench/torch_reference.py" --config "$kit/mnist_lambdahot.json" --device cuda \
        --epochs 2 --time-only --quiet --data-dir "$kit/data" --out "$out_dir/torch-eager-mlp.json" \
        > "$out_dir/torch-eager-mlp.log" 2>&1 || torch_mlp_rc=$?
      timeout "$(capped 90)" python3 "$repo/bench/torch_reference.py" --config "$kit/mnist_lambdahot_conv.json" --device cuda \
        --epochs 2 --time-only --quiet --data-dir "$kit/data" --out "$out_dir/torch-eager-conv.json" \
        > "$out_dir/torch-eager-conv.log" 2>&1 || torch_conv_rc=$?
    else
      say "no PyTorch with CUDA here: the PyTorch peer was not timed"
    fi
  fi
  # 7: the report of the ten-epoch GPU run, made on the GPU: its t-SNE of 10,000 test points runs
  # the exact all-pairs gradient there (kernels/tsne_forces.cu); tsne_seconds lands in metrics.json.
  local report_rc=127
  if [ -x "$kit/clustervae-report" ] && [ "$dry" = 0 ] && fits 30 "the GPU run's report"; then
    local gpu_run_dir; gpu_run_dir=$(ls -d "$out_dir"/runs/gpu-* 2>/dev/null | tail -n 1)
    if [ -n "$gpu_run_dir" ]; then
      say "7/7 the GPU run's report on the GPU (t-SNE of 10,000 points, exact gradient)"
      report_rc=0
      timeout "$(capped 120)" "$kit/clustervae-report" "$gpu_run_dir" device=cuda cache=none \
        > "$out_dir/report-gpu.log" 2>&1 || report_rc=$?
    fi
  fi
  local t4; t4=$(date +%s)

  local json="$out_dir/gpu-check.json"
  GPU_LINE="$gpu_line" KIT="$kit" OUT_DIR="$out_dir" CUDA_LIBS="$cuda_libs" DRY="$dry" \
  TESTS_RC=$tests_rc MEMCHECK_RC=$memcheck_rc RACECHECK_RC=$racecheck_rc \
  T_TESTS=$((t1 - t0)) T_SANITIZERS=$((t3 - t1)) SANITIZER="$sanitizer" \
  TRAIN_GPU_RC=$train_gpu_rc TRAIN_CPU_RC=$train_cpu_rc TRAIN_CONV_RC=$train_conv_rc T_TRAINING=$((t4 - t3)) \
  BENCH_RC=$bench_rc TORCH_MLP_RC=$torch_mlp_rc TORCH_CONV_RC=$torch_conv_rc REPORT_RC=$report_rc SKIPPED_FOR_TIME="$skipped_for_time" BUDGET_S="${GPU_CHECK_BUDGET_S:-540}" \
  python3 - "$json" <<'PY'
import ctypes, json, os, re, subprocess, sys, xml.etree.ElementTree as ET

env = os.environ
out_dir, kit = env["OUT_DIR"], env["KIT"]

def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""

def library_version(names, symbol, decode):
    for directory in [env.get("CUDA_LIBS", "")] + env.get("LD_LIBRARY_PATH", "").split(":"):
        for name in names:
            path = os.path.join(directory, name)
            if directory and os.path.exists(path):
                try:
                    return decode(ctypes.CDLL(path), symbol) + " (" + path + ")"
                except Exception as error:  # a version is nice to have, never a reason to fail
                    return "unreadable: %s" % error
    return "not found"

def cublas_version(lib, symbol):
    parts = []
    for prop in range(3):  # MAJOR_VERSION, MINOR_VERSION, PATCH_LEVEL
        value = ctypes.c_int()
        getattr(lib, symbol)(prop, ctypes.byref(value))
        parts.append(str(value.value))
    return ".".join(parts)

def cudnn_version(lib, symbol):
    getattr(lib, symbol).restype = ctypes.c_size_t
    v = getattr(lib, symbol)()
    return "%d.%d.%d (%d)" % (v // 10000, (v % 10000) // 100, v % 100, v)

def cudnn_anywhere():
    found = library_version(["libcudnn.so.9"], "cudnnGetVersion", cudnn_version)
    if found != "not found":
        return found
    try:
        import nvidia.cudnn  # the wheel PyTorch uses
        path = os.path.join(list(nvidia.cudnn.__path__)[0], "lib", "libcudnn.so.9")
        return cudnn_version(ctypes.CDLL(path), "cudnnGetVersion") + " (" + path + ")"
    except Exception:
        return "not found"

def command(args):
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:
        return ""

build_info = dict(line.split("=", 1) for line in read(os.path.join(kit, "BUILD_INFO")).splitlines() if "=" in line)

tests = []
xml_text = read(os.path.join(out_dir, "gpu-tests.xml"))
skipped = "SKIPPED: no CUDA device" in xml_text
if xml_text:
    try:
        for case in ET.fromstring(xml_text).iter("TestCase"):
            result = case.find("OverallResult")
            tests.append({
                "name": case.get("name"),
                "passed": result is not None and result.get("success") == "true",
                "seconds": float(result.get("durationInSeconds", "nan")) if result is not None else None,
                "failed_expressions": [ (e.findtext("Original") or "").strip() + " -> " + (e.findtext("Expanded") or "").strip()
                                        for e in case.iter("Expression") if e.get("success") == "false" ][:5],
            })
    except ET.ParseError as error:
        tests.append({"name": "(gpu-tests.xml unreadable)", "passed": False, "error": str(error)})

def sanitizer_step(tool, rc):
    log = read(os.path.join(out_dir, tool + ".log"))
    summary = re.findall(r"ERROR SUMMARY: (\d+) error", log)
    hazards = re.findall(r"RACECHECK SUMMARY: (\d+) hazard", log)
    unsupported = bool(re.search(r"Device not supported|not supported on this", log))
    if rc == 125:
        status = "not run: skipped for time (GPU_CHECK_BUDGET_S)"
    elif rc == 127 and not log:
        status = "not run: compute-sanitizer not found"
    elif unsupported:
        status = "not run: compute-sanitizer does not support this device or runtime"
    elif rc == 124:
        status = "timed out"
    elif summary and all(n == "0" for n in summary):
        status = "clean" if rc == 0 else "no sanitizer errors, but the tests exited %d" % rc
    else:
        status = "errors"
    return {"tool": tool, "status": status, "exit_code": rc,
            "errors": int(summary[-1]) if summary else None,
            "hazards": int(hazards[-1]) if hazards else None,
            "log_tail": log.splitlines()[-40:]}

tests_rc = int(env["TESTS_RC"])
steps = {
    "gpu_tests": {"exit_code": tests_rc, "seconds": int(env["T_TESTS"]),
                  "passed": sum(t["passed"] for t in tests), "failed": sum(not t["passed"] for t in tests),
                  "saw_the_gpu": not skipped, "tests": tests},
    "memcheck": sanitizer_step("memcheck", int(env["MEMCHECK_RC"])),
    "racecheck": sanitizer_step("racecheck", int(env["RACECHECK_RC"])),
    "sanitizer_seconds": int(env["T_SANITIZERS"]),
    "budget_seconds": int(env["BUDGET_S"]),
    "skipped_for_time": [x for x in env.get("SKIPPED_FOR_TIME", "").split(", ") if x],
}

def run_metrics(name):
    import glob
    found = sorted(glob.glob(os.path.join(out_dir, "runs", name + "-*", "metrics.json")))
    if not found:
        return None
    try:
        with open(found[-1]) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

gpu_run, cpu_run = run_metrics("gpu"), run_metrics("cpu")
tolerance = {"test_bce_sampled": 1.0, "test_bce_mean": 1.0, "argmax_accuracy": 0.02, "linear_probe_accuracy": 0.02}
comparison = {}
if gpu_run and cpu_run:
    for key, limit in tolerance.items():
        g, c = gpu_run.get(key), cpu_run.get(key)
        if isinstance(g, (int, float)) and isinstance(c, (int, float)):
            comparison[key] = {"gpu": g, "cpu": c, "difference": g - c, "tolerance": limit, "within": abs(g - c) <= limit}
steps["training"] = {
    "what": "10 epochs, Lambda-Hot VAE, MNIST, batch 128: device=cuda against device=cpu on this machine",
    "exit_codes": {"gpu": int(env["TRAIN_GPU_RC"]), "cpu": int(env["TRAIN_CPU_RC"])},
    "seconds": int(env["T_TRAINING"]),
    "gpu_epoch_seconds": gpu_run.get("epoch_seconds") if gpu_run else None,
    "cpu_epoch_seconds": cpu_run.get("epoch_seconds") if cpu_run else None,
    "gpu_metrics": gpu_run, "cpu_metrics": cpu_run,
    "comparison": comparison,
    "agree": bool(comparison) and all(v["within"] for v in comparison.values()),
}
conv_metrics = None
for root, _, files in os.walk(os.path.join(out_dir, "runs")):
    if "metrics.json" in files and os.path.basename(root).startswith("conv-gpu"):
        try:
            conv_metrics = json.loads(read(os.path.join(root, "metrics.json")))
        except ValueError:
            pass
unfused_run = run_metrics("unfused-gpu")
steps["cublaslt_epilogue"] = {
    "what": "MLP epoch seconds on the GPU with the cuBLASLt bias/ReLU epilogue (the ten-epoch run) and without (CLUSTERVAE_CUBLASLT=0, 2 epochs)",
    "fused_epoch_seconds": gpu_run.get("epoch_seconds") if gpu_run else None,
    "unfused_epoch_seconds": unfused_run.get("epoch_seconds") if unfused_run else None,
}
steps["conv_training"] = {
    "what": "2 epochs, conv Lambda-Hot VAE (cuDNN), MNIST, batch 128, device=cuda",
    "exit_code": int(env["TRAIN_CONV_RC"]),
    "epoch_seconds": conv_metrics.get("epoch_seconds") if conv_metrics else None,
    "metrics": conv_metrics,
}
report_metrics = run_metrics("gpu")  # metrics.json after the report added its figures
steps["report"] = {
    "what": "clustervae-report of the GPU run, device=cuda: t-SNE of 10,000 test points (exact gradient)",
    "exit_code": int(env["REPORT_RC"]),
    "tsne_seconds": report_metrics.get("tsne_seconds") if report_metrics else None,
    "tsne_method": report_metrics.get("tsne_method") if report_metrics else None,
    "conditional_sample_accuracy": report_metrics.get("conditional_sample_accuracy") if report_metrics else None,
    "log_tail": read(os.path.join(out_dir, "report-gpu.log")).splitlines()[-20:],
}
def json_file(name):
    try:
        return json.loads(read(os.path.join(out_dir, name)))
    except ValueError:
        return None
torch_mlp, torch_conv = json_file("torch-eager-mlp.json"), json_file("torch-eager-conv.json")
# Epoch 1 of each pays for start-up (cuDNN/cuBLAS heuristics, graph recording, torch's kernels):
# the speed figure is the last epoch of each.
def last(values):
    return values[-1] if values else None
clustervae_mlp_epoch = last(gpu_run.get("epoch_seconds")) if gpu_run else None
clustervae_conv_epoch = last(conv_metrics.get("epoch_seconds")) if conv_metrics else None
torch_mlp_epoch = last(torch_mlp.get("epoch_seconds")) if torch_mlp else None
torch_conv_epoch = last(torch_conv.get("epoch_seconds")) if torch_conv else None
def ratio(a, b):
    return a / b if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0 else None
steps["benchmarks"] = {
    "exit_codes": {"bench_backend_ops": int(env["BENCH_RC"]), "torch_mlp": int(env["TORCH_MLP_RC"]),
                   "torch_conv": int(env["TORCH_CONV_RC"])},
    "backend_ops": json_file("backend-ops-cuda.json"),
    "lloyd": json_file("lloyd-cuda.json"),            # direct assignment kernel at every K
    "lloyd_gemm_route": json_file("lloyd-gemm-cuda.json"),  # GEMM route at every K
    "epoch_seconds_last": {"clustervae_mlp": clustervae_mlp_epoch, "torch_eager_mlp": torch_mlp_epoch,
                           "clustervae_conv": clustervae_conv_epoch, "torch_eager_conv": torch_conv_epoch},
    "speedup_vs_torch_eager": {"mlp": ratio(torch_mlp_epoch, clustervae_mlp_epoch),
                               "conv": ratio(torch_conv_epoch, clustervae_conv_epoch)},
    "torch_eager_mlp": torch_mlp, "torch_eager_conv": torch_conv,
}
gpu = [s.strip() for s in env.get("GPU_LINE", "").split(",")]
result = {
    "schema": "clustervae-gpu-check/1",
    "dry_run": env["DRY"] == "1",
    "date": command(["date", "-u", "+%Y-%m-%dT%H:%M:%SZ"]),
    "git_commit": build_info.get("commit", "unknown"),
    "uncommitted_files_at_build": build_info.get("uncommitted_files", "unknown"),
    "build": build_info,
    "device": {"name": gpu[0] if gpu and gpu[0] else "none", "driver": gpu[1] if len(gpu) > 1 else None,
               "memory": gpu[2] if len(gpu) > 2 else None, "compute_capability": gpu[3] if len(gpu) > 3 else None},
    "versions": {
        "cuda_driver_api": command(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"]) or None,
        "nvcc_on_this_machine": (command(["nvcc", "--version"]).splitlines() or [None])[-2:][0] if command(["nvcc", "--version"]) else None,
        "cublas": library_version(["libcublas.so.13"], "cublasGetProperty", cublas_version),
        "cudnn": cudnn_anywhere(),
        "compute_sanitizer": command([env["SANITIZER"], "--version"]).splitlines()[-1:] if env.get("SANITIZER") else None,
    },
    "host": {"kernel": command(["uname", "-srm"]),
             "cpu": next((l.split(":", 1)[1].strip() for l in read("/proc/cpuinfo").splitlines() if l.startswith("model name")), None)},
    "steps": steps,
}
with open(sys.argv[1], "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")
print("gpu-check: tests %d passed, %d failed%s; memcheck %s; racecheck %s; ten-epoch GPU vs CPU %s" % (
    steps["gpu_tests"]["passed"], steps["gpu_tests"]["failed"],
    "" if not skipped else " (they did NOT see a GPU)", steps["memcheck"]["status"], steps["racecheck"]["status"],
    "agree" if steps["training"]["agree"] else "DO NOT AGREE or did not run"))
PY
  say "result: $json"
  if [ -n "${OUT:-}" ] && [ -d "${OUT:-}" ]; then
    cp "$json" "$OUT/gpu-check-$stamp.json"
    for f in gpu-tests.xml memcheck.log racecheck.log train-gpu.log train-cpu.log train-conv-gpu.log train-unfused-gpu.log \
             backend-ops-cuda.log lloyd-cuda.log lloyd-gemm-cuda.log report-gpu.log torch-eager-mlp.log torch-eager-conv.log; do [ -f "$out_dir/$f" ] && cp "$out_dir/$f" "$OUT/"; done
    say "copied to \$OUT"
  fi

  if [ "$dry" = 1 ]; then die 2 "dry run finished: no GPU on this machine, so nothing was checked ($json)"; fi
  grep -q "SKIPPED: no CUDA device" "$out_dir/gpu-tests.xml" 2>/dev/null &&
    die 1 "the tests did not see the GPU (cuda_device_count() == 0): check the driver and LD_LIBRARY_PATH"
  [ "$tests_rc" = 0 ] || die 1 "gpu tests failed (exit $tests_rc): see $out_dir/gpu-tests.xml"
  local memcheck racecheck
  memcheck="$(sanitizer_verdict "$memcheck_rc" "$out_dir/memcheck.log")"
  racecheck="$(sanitizer_verdict "$racecheck_rc" "$out_dir/racecheck.log")"
  if [ "$memcheck" = errors ] || [ "$racecheck" = errors ]; then
    die 1 "compute-sanitizer: memcheck exit $memcheck_rc, racecheck exit $racecheck_rc (86: errors found, 124: timed out); see $out_dir/memcheck.log and racecheck.log"
  fi
  if [ "$memcheck" != clean ] || [ "$racecheck" != clean ]; then
    die 4 "the gpu tests passed, but compute-sanitizer could not run here (memcheck $memcheck, racecheck $racecheck)"
  fi
  say "all clean"
}

case "$mode" in
  prepare) prepare ;;
  run) run_checks 0 ;;
  dry-run) run_checks 1 ;;
esac

#!/usr/bin/env bash
# The GPU check: the one command to run on a lent GPU machine.
#
#   here:   scripts/gpu-check.sh --prepare   build with CUDA into BUILD_DIR (default build-gpu; JOBS,
#           default 2) and pack BUILD_DIR/device-kit (at most 60 MiB): the four binaries, the ldd
#           closure of all four minus libc/libstdc++/CUDA, MNIST gzipped, the two configs, BUILD_INFO
#   there:  bash scripts/gpu-check.sh        device tool: carry ["build-gpu/device-kit"], timeout_s 600
#   here:   scripts/gpu-check.sh --dry-run   every step without a GPU (CPU runs stand in), exit 2
#
# Steps, in this order, each with its own exit code, seconds and budget left (GPU_CHECK_BUDGET_S,
# default 540 s; a step that no longer fits is skipped and named): load check of the kit binaries;
# every gpu test case in its own process; ten epochs GPU vs CPU (differences reported; only BCE
# judged) and two-epoch GPU runs with the graph off, of the conv net and without the cuBLASLt
# epilogue (every graph-on run must show cuda_graph_replays > 0); benchmarks; the GPU run's report;
# compute-sanitizer memcheck, racecheck, then initcheck and synccheck on [model],[graph].
# Results in bench/results/gpu-check-STAMP/; when $OUT is set it gets exactly two files,
# gpu-check-STAMP.json and gpu-check-STAMP-logs.tar.gz (< 16 MiB). The JSON is written whatever
# fails (scripts/gpu_check_summary.py; a minimal one from the shell if that fails).
#
# Exit status: 0 everything ran and passed; 1 a failure (test case, run, graph check, BCE,
# benchmark, report, sanitizer error, or this script); 2 no GPU, no kit, a kit binary that does not
# load, or --dry-run; 4 nothing failed but not everything ran (a sanitizer unavailable here, or a
# step skipped for time).
#
# Why one long file: the steps share one deadline and one list of findings, and the whole check is
# the one command a lent device runs; each step is a function under its own "# --- N:" heading.
set -Eeuo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$repo/build-gpu}"
kit="$build/device-kit"
tests_bin=clustervae_gpu_tests
kit_binaries=(clustervae_gpu_tests clustervae-train bench_backend_ops clustervae-report)

say() { echo "gpu-check: $*"; }
die() { local code=$1; shift; echo "gpu-check: $*" >&2; exit "$code"; }

mode=run
case "${1:-}" in
  --prepare) mode=prepare ;;
  --dry-run) mode="dry-run" ;;
  "") ;;
  -h|--help) sed -n '2,23p' "${BASH_SOURCE[0]}"; exit 0 ;;
  *) die 2 "unknown argument '$1' (use --prepare, --dry-run or nothing)" ;;
esac

# ================================================================ here: build and pack the kit
prepare() {
  command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ] ||
    die 2 "--prepare needs nvcc (CUDA 13) to build the CUDA backend"
  say "building ${kit_binaries[*]} with CUDA into $build"
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCLUSTERVAE_CUDA=ON >/dev/null
  cmake --build "$build" -j "${JOBS:-2}" --target "${kit_binaries[@]}"
  rm -rf "$kit"
  mkdir -p "$kit/lib" "$kit/data/mnist"
  local b
  for b in "${kit_binaries[@]}"; do cp "$build/$b" "$kit/"; done
  # The ten-epoch GPU-vs-CPU comparison trains on MNIST: gzipped (the reader takes .gz), ~11 MB.
  local f data_dir="${CLUSTERVAE_DATA:-$repo/data}"
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    [ -f "$data_dir/mnist/$f" ] || die 2 "no $data_dir/mnist/$f: run scripts/setup.sh first"
    gzip -9 -c "$data_dir/mnist/$f" > "$kit/data/mnist/$f.gz"
  done
  cp "$repo/configs/mnist_lambdahot.json" "$repo/configs/mnist_lambdahot_conv.json" "$kit/"
  # The figures' font (cairo asks fontconfig for DejaVu Sans): the GPU machine has no Debian
  # packages, so perhaps no fonts; the kit brings the two faces the figures use and a fonts.conf
  # that names only them (the path is filled in there: the kit does not know where it will sit).
  mkdir -p "$kit/fonts"
  for f in DejaVuSans.ttf DejaVuSans-Bold.ttf; do
    [ -f "/usr/share/fonts/truetype/dejavu/$f" ] || die 2 "no /usr/share/fonts/truetype/dejavu/$f: run scripts/setup.sh first"
    cp "/usr/share/fonts/truetype/dejavu/$f" "$kit/fonts/"
  done
  # The ldd closure of all four binaries, except the C/C++ runtime (the GPU machine has its own,
  # newer one) and CUDA's libraries (taken there, where they match the driver). oneDNN gzipped.
  local name path
  while read -r name path; do
    case "$name" in
      linux-vdso*|ld-linux*|libc.so*|libm.so*|libmvec.so*|libstdc++*|libgcc_s*|libpthread*|libdl.so*|librt.so*|libresolv*|libutil.so*) continue ;;
      libcublas*|libcudart*|libcudnn*|libcuda.so*|libnvrtc*|libnvJitLink*|libnvidia-*|libcufft*|libcurand*|libcusparse*|libcusolver*) continue ;;
    esac
    [ -f "$path" ] || die 2 "cannot find $name for the kit (ldd says '$path')"
    if [ "$name" = libdnnl.so.2 ]; then gzip -9 -c "$path" > "$kit/lib/$name.gz"; else cp -L "$path" "$kit/lib/$name"; fi
  done < <(for b in "${kit_binaries[@]}"; do ldd "$kit/$b"; done | awk '$2 == "=>" && $3 != "not" {print $1, $3}' | sort -u)
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
    echo "kit_libs=$(find "$kit/lib" -maxdepth 1 -type f -printf '%f ' | sed 's/ $//')"
  } > "$kit/BUILD_INFO"
  local kit_bytes; kit_bytes=$(du -sb "$kit" | cut -f1)
  [ "$kit_bytes" -le $((60 * 1024 * 1024)) ] ||
    die 1 "the kit is $kit_bytes bytes: over the 60 MiB that leave the checkout room in the device tool's 64 MiB"
  say "kit ready: $kit ($kit_bytes bytes; lib/: $(find "$kit/lib" -maxdepth 1 -type f -printf '%f '))"
  say "on the GPU machine: bash scripts/gpu-check.sh   with carry [\"${kit#"$repo"/}\"], timeout_s 600"
}

# ================================================================ there: run the checks
# --- the budget: every step's timeout ends before the deadline, less a reserve for the JSON + tar
budget_s=${GPU_CHECK_BUDGET_S:-540}
reserve_s=15
started_at=$(date +%s)
deadline=$((started_at + budget_s - reserve_s))
seconds_left() { local left=$((deadline - $(date +%s))); echo $((left > 0 ? left : 0)); }
# capped LIMIT: LIMIT, or what is left before the deadline when that is less (at least 1)
capped() { local left; left=$(seconds_left); if [ "$left" -lt "$1" ]; then echo $((left > 1 ? left : 1)); else echo "$1"; fi; }
fits() { [ "$(seconds_left)" -ge "$1" ]; }

# --- what the run found; the shell alone judges (the summary only reports)
failures=() unavailable=() incomplete=() warnings=()
# failures: exit 1; unavailable (no GPU, kit or library): exit 2; incomplete (a sanitizer that could not
# run here, a step skipped for time): exit 4; warnings change nothing
fail()       { failures+=("$*");    echo "gpu-check: FAILED: $*" >&2; }
not_avail()  { unavailable+=("$*"); echo "gpu-check: NOT AVAILABLE: $*" >&2; }
incomplete() { incomplete+=("$*");  say "incomplete: $*"; }
warn()       { warnings+=("$*");    say "warning: $*"; }
fatal() { fatal_code=$1; shift; fatal_msg="$*"; exit "$fatal_code"; }  # planned stop; the trap writes the JSON

# Globals the EXIT trap reads (set before the trap is installed).
dry=0 main_done=0 finished=0 fatal_code="" fatal_msg="" err_line="" err_cmd="" current_step="start"
out_dir="" logs="" stamp="" gpu_line="" runtime_guess=unknown sanitizer="" kit_ld="" unpacked=""
kit_env=(env)
declare -A loads=()

# record NAME STATUS RC SECONDS [NOTE]: one line of steps.tsv, and the budget left on stdout
record() {
  local name=$1 status=$2 rc=$3 secs=$4 note=${5:-} left; left=$(seconds_left)
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$status" "$rc" "$secs" "$left" "${note//$'\t'/ }" >> "$logs/steps.tsv"
  say "[$name] $status (exit $rc, ${secs} s)${note:+ — $note}; ${left} s of the budget left"
}

# run_step SEVERITY NAME NEED CAP LOG CMD...: runs CMD (output to LOG) under a timeout of CAP
# seconds, capped to the time left, when NEED seconds still fit; records it. SEVERITY fail|warn|none
# says what a non-zero exit is. Sets step_s. Always returns 0.
run_step() {
  local severity=$1 name=$2 need=$3 cap=$4 log=$5; shift 5
  step_s=0
  if ! fits "$need"; then
    record "$name" skipped-for-time 125 0 "needs ${need} s"; incomplete "$name: skipped for time"; return 0
  fi
  current_step=$name
  local t0 rc=0; t0=$(date +%s)
  timeout -k 10 "$(capped "$cap")" "$@" < /dev/null > "$log" 2>&1 || rc=$?
  step_s=$(( $(date +%s) - t0 ))
  local status=ok
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then status=timed-out; elif [ "$rc" != 0 ]; then status=failed; fi
  record "$name" "$status" "$rc" "$step_s" "log: ${log#"$out_dir"/}"
  if [ "$status" != ok ]; then
    case "$severity" in
      fail) fail "$name: $status (exit $rc), see ${log#"$out_dir"/}" ;;
      warn) warn "$name: $status (exit $rc), see ${log#"$out_dir"/}" ;;
    esac
  fi
  return 0
}

# needs_binary STEP BINARY: true when the kit binary loaded; else records STEP as not run
needs_binary() {
  if [ "${loads[$2]:-0}" = 1 ]; then return 0; fi
  record "$1" not-run-binary-does-not-load 127 0 "$2 did not pass the load check"
  return 1
}

# run_dir_of NAME: the run folder clustervae-train made under runs/NAME/, or nothing (never fails)
run_dir_of() {
  local d
  for d in "$out_dir/runs/$1"/*/; do
    if [ -d "$d" ]; then echo "${d%/}"; return 0; fi
  done
  return 0
}
# metric FILE KEY: a number from a metrics.json written by nlohmann::json::dump, or nothing
metric() {
  [ -f "$1" ] || return 0
  grep -o "\"$2\": *-\{0,1\}[0-9][0-9.eE+-]*" "$1" | head -n 1 | sed 's/.*: *//' || true
}

# Catch2 (v2) test spec for one exact name: escape the characters its spec parser treats specially.
catch_name() { printf '%s' "$1" | sed -e 's/[][\\,"*~]/\\&/g'; }

# --- where the CUDA libraries are: the toolkit, the CUDA 13 pip wheels (site-packages/nvidia/cu13/lib
# and nvidia/*/lib, as PyTorch has them), then what ldconfig knows.
library_dirs() {
  local d
  for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda/lib \
           /usr/local/cuda-13*/lib64 /usr/local/cuda-13*/targets/x86_64-linux/lib /usr/local/cuda-13*/lib; do
    [ -d "$d" ] && echo "$d"
  done
  if command -v python3 >/dev/null 2>&1; then
    timeout 60 python3 -c 'import nvidia, os, glob
for p in list(nvidia.__path__):
    print(os.path.join(p, "cu13", "lib"))
    for d in sorted(glob.glob(os.path.join(p, "*", "lib"))): print(d)' 2>/dev/null || true
    local sp
    for sp in $(timeout 30 python3 -c 'import site; print(" ".join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null || true); do
      for d in "$sp"/nvidia/cu13/lib "$sp"/nvidia/*/lib; do [ -d "$d" ] && echo "$d"; done
    done
  fi
  for d in /usr/lib/x86_64-linux-gnu /usr/local/cudnn*/lib /usr/local/cudnn*/lib64; do [ -d "$d" ] && echo "$d"; done
  { ldconfig -p 2>/dev/null || true; } | awk '/libcublas|libcudnn|libcudart/ {print $NF}' | xargs -r -n1 dirname
  return 0
}

find_sanitizer() {
  local s
  for s in "$(command -v compute-sanitizer 2>/dev/null || true)" /usr/local/cuda/bin/compute-sanitizer \
           /usr/local/cuda/compute-sanitizer/compute-sanitizer /usr/local/cuda-13*/bin/compute-sanitizer \
           /opt/nvidia/*/compute-sanitizer/compute-sanitizer; do
    if [ -n "$s" ] && [ -x "$s" ]; then echo "$s"; return 0; fi
  done
  return 0
}

# --- 0: the machine
machine_facts() {
  current_step=machine
  {
    echo "== uname -a"; uname -a
    echo "== /proc/version"; cat /proc/version 2>/dev/null || true
    echo "== dmi"; cat /sys/class/dmi/id/sys_vendor /sys/class/dmi/id/product_name 2>/dev/null || true
    echo "== systemd-detect-virt"; timeout 5 systemd-detect-virt 2>/dev/null || true
    echo "== cpuinfo"; grep -m1 "model name" /proc/cpuinfo 2>/dev/null || true; grep -c ^processor /proc/cpuinfo 2>/dev/null || true
    grep -m1 -o -w hypervisor /proc/cpuinfo 2>/dev/null || true
    echo "== dmesg (head)"; timeout 5 dmesg 2>/dev/null | head -n 30 || true
    echo "== nvcc"; (nvcc --version || /usr/local/cuda/bin/nvcc --version) 2>/dev/null | tail -n 2 || true
    echo "== python3"; timeout 30 python3 -c 'import sys; print(sys.executable, sys.version.split()[0])' 2>/dev/null || true
  } > "$logs/machine.log" 2>&1
  local hints=""
  if uname -r | grep -q -- '-fc-' || grep -qi firecracker "$logs/machine.log"; then runtime_guess=firecracker
  elif grep -qi gvisor "$logs/machine.log" || [ "$(uname -r)" = 4.4.0 ]; then runtime_guess=gvisor
  elif grep -q -w hypervisor "$logs/machine.log"; then runtime_guess=vm-unknown
  fi
  hints="kernel $(uname -r)"
  if command -v nvidia-smi >/dev/null 2>&1; then
    timeout 30 nvidia-smi > "$logs/nvidia-smi.log" 2>&1 || true
    gpu_line="$(timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>/dev/null | head -n 1 || true)"
  else
    echo "nvidia-smi not installed" > "$logs/nvidia-smi.log"
  fi
  say "machine: ${gpu_line:-no GPU}; runtime: $runtime_guess ($hints)"
}

# --- 1: libraries and the load check of every kit binary
load_check() {
  current_step=libraries
  unpacked="$(mktemp -d /tmp/gpu-check-lib-XXXXXX)"
  if [ -f "$kit/lib/libdnnl.so.2.gz" ]; then gzip -dc "$kit/lib/libdnnl.so.2.gz" > "$unpacked/libdnnl.so.2"; fi
  local base="$unpacked:$kit/lib" dirs=() d lib
  mapfile -t dirs < <(library_dirs | awk '!seen[$0]++')
  printf '%s\n' "${dirs[@]}" > "$logs/library-search-dirs.txt"
  # The CUDA libraries the binaries need, and anything else ldd cannot find with the kit's libraries.
  local wanted=(libcublas.so.13 libcublasLt.so.13 libcudnn.so.9) extra=() chosen=()
  for lib in $(for b in "${kit_binaries[@]}"; do LD_LIBRARY_PATH="$base" ldd "$kit/$b" 2>/dev/null || true; done |
               awk '$2 == "=>" && $3 == "not" {print $1}' | sort -u); do
    case " ${wanted[*]} " in *" $lib "*) ;; *) extra+=("$lib") ;; esac
  done
  : > "$logs/libraries.tsv"
  for lib in "${wanted[@]}" "${extra[@]}"; do
    local found=""
    for d in "${dirs[@]}"; do if [ -e "$d/$lib" ]; then found=$d; break; fi; done
    printf '%s\t%s\n' "$lib" "${found:-not found}" >> "$logs/libraries.tsv"
    if [ -n "$found" ]; then case " ${chosen[*]} " in *" $found "*) ;; *) chosen+=("$found") ;; esac; fi
  done
  kit_ld="$base"
  for d in "${chosen[@]}"; do kit_ld="$kit_ld:$d"; done
  kit_ld="$kit_ld${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # Every kit command runs under this environment, and only kit commands (python3 and PyTorch keep
  # their own libraries). Plain FP32 GEMMs whatever the machine's default.
  kit_env=(env "LD_LIBRARY_PATH=$kit_ld" NVIDIA_TF32_OVERRIDE=0)
  if [ -d "$kit/fonts" ]; then
    printf '<?xml version="1.0"?>\n<fontconfig><dir>%s</dir><cachedir>%s</cachedir></fontconfig>\n' \
      "$kit/fonts" "$out_dir/fontconfig-cache" > "$out_dir/fonts.conf"
    kit_env+=("FONTCONFIG_FILE=$out_dir/fonts.conf")
  fi
  say "kit LD_LIBRARY_PATH: $kit_ld"
  while IFS=$'\t' read -r lib d; do say "  $lib: $d"; done < "$logs/libraries.tsv"

  current_step=load-check
  local b t0 rc missing versions
  for b in "${kit_binaries[@]}"; do
    t0=$(date +%s); loads[$b]=0
    if [ ! -x "$kit/$b" ]; then
      record "load-$b" failed 127 0 "not in the kit"; not_avail "$b is not in the kit"; continue
    fi
    timeout 30 "${kit_env[@]}" ldd "$kit/$b" > "$logs/ldd-$b.log" 2>&1 || true
    missing="$(awk '/=> not found/ {print $1}' "$logs/ldd-$b.log" | tr '\n' ' ')"
    versions="$(grep -o "version \`[^']*' not found" "$logs/ldd-$b.log" | sort -u | tr '\n' ' ' || true)"
    local help=--help; [ "$b" = "$tests_bin" ] && help=-h
    rc=0
    timeout 60 "${kit_env[@]}" LD_DEBUG=libs "$kit/$b" "$help" < /dev/null > "$logs/help-$b.log" 2>&1 || rc=$?
    # what the dynamic loader actually mapped (CUDA's libraries)
    grep -o 'calling init: /.*' "$logs/help-$b.log" | sed 's/calling init: //' |
      grep -E 'libcu|libnv' | sort -u | while read -r p; do
        printf '%s\t%s\t%s\n' "$b" "$p" "$(readlink -f "$p" 2>/dev/null || echo "$p")"
      done >> "$logs/loaded-libraries.tsv" || true
    if [ -n "$missing" ] || [ -n "$versions" ] || [ "$rc" = 127 ] || [ "$rc" -ge 128 ] ||
       grep -q "error while loading shared libraries" "$logs/help-$b.log"; then
      record "load-$b" failed "$rc" $(( $(date +%s) - t0 )) "missing: ${missing:-none}; ${versions:-no version errors}; $help exit $rc"
      not_avail "$b does not load: ${missing:+missing $missing}${versions}(exit $rc; see logs/ldd-$b.log)"
    else
      loads[$b]=1
      record "load-$b" ok "$rc" $(( $(date +%s) - t0 )) "$help exit $rc"
    fi
  done
}

# --- 2: every gpu test case in its own process (a device fault cannot take the others with it)
gpu_tests() {
  current_step=gpu-tests
  mkdir -p "$logs/tests"
  : > "$logs/tests/tests.tsv"
  needs_binary gpu-tests "$tests_bin" || return 0
  local rc=0
  timeout 60 "${kit_env[@]}" "$kit/$tests_bin" --list-test-names-only < /dev/null > "$logs/tests/all.txt" 2> "$logs/tests/list.log" || rc=$?
  timeout 60 "${kit_env[@]}" "$kit/$tests_bin" "[large]" --list-test-names-only < /dev/null > "$logs/tests/large.txt" 2>> "$logs/tests/list.log" || true
  # the [large] cases last, so that their time cannot push the quick ones out
  { grep -vxF -f "$logs/tests/large.txt" "$logs/tests/all.txt" || true; cat "$logs/tests/large.txt"; } | sed '/^$/d' > "$logs/tests/names.txt"
  local n; n=$(wc -l < "$logs/tests/names.txt" | tr -d ' ')
  # (Catch2 v2 exits with the number of names it listed)
  if [ "$rc" -ge 125 ] || [ "$n" = 0 ]; then
    record gpu-tests failed "$rc" 0 "could not list the test cases (see logs/tests/list.log)"
    fail "gpu-tests: could not list the test cases (exit $rc)"; return 0
  fi
  # at most GPU_CHECK_TESTS_S (200 s) for them all; GPU_CHECK_CASE_S (60 s) a case, twice that for [large]
  local phase_end=$(( $(date +%s) + ${GPU_CHECK_TESTS_S:-200} )) case_cap=${GPU_CHECK_CASE_S:-60}
  local i=0 t0 t_all secs status id name passed=0 failed=0 skipped=0 notrun=0 first_fail="" first_fault=""
  t_all=$(date +%s)
  say "gpu tests: $n cases, each in its own process (at most $case_cap s each, [large] $((2 * case_cap)) s)"
  while IFS= read -r name <&3; do
    i=$((i + 1)); id=$(printf 'case-%02d' "$i")
    local phase_left=$(( phase_end - $(date +%s) )) cap
    if [ "$phase_left" -lt 5 ] || ! fits 10; then
      printf '%s\t%s\t%s\t%s\t%s\n' "$id" not-run-time 125 0 "$name" >> "$logs/tests/tests.tsv"
      notrun=$((notrun + 1)); continue
    fi
    cap=$case_cap; if grep -qxF -- "$name" "$logs/tests/large.txt"; then cap=$((2 * case_cap)); fi
    cap=$(capped "$cap"); [ "$cap" -gt "$phase_left" ] && cap=$phase_left
    current_step="gpu-tests: $name"
    t0=$(date +%s); rc=0
    timeout -k 5 "$cap" "${kit_env[@]}" "$kit/$tests_bin" "$(catch_name "$name")" -r xml -d yes -o "$logs/tests/$id.xml" \
      < /dev/null > "$logs/tests/$id.log" 2>&1 || rc=$?
    secs=$(( $(date +%s) - t0 ))
    if [ "$rc" = 0 ] && grep -qs "SKIPPED: no CUDA device" "$logs/tests/$id.xml" "$logs/tests/$id.log"; then status="skipped-no-gpu"
    elif [ "$rc" = 0 ] && ! grep -qs '<TestCase ' "$logs/tests/$id.xml"; then status=matched-nothing
    elif [ "$rc" = 0 ]; then status=passed
    elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then status=timed-out
    elif [ "$rc" -ge 128 ]; then status=crashed
    else status=failed; fi
    # a device fault: a crash or hang, or a CUDA/cuBLAS/cuDNN error in the output
    if [ "$status" = timed-out ] || [ "$status" = crashed ] || { [ "$status" = failed ] &&
       grep -qsiE 'illegal memory access|misaligned address|unspecified launch failure|illegal instruction|device-side assert|cudaError|CUDA call|CUBLAS_STATUS|CUDNN_STATUS|cuda error' \
         "$logs/tests/$id.xml" "$logs/tests/$id.log"; }; then
      [ -z "$first_fault" ] && first_fault="$name ($status, exit $rc)"
    fi
    case "$status" in
      passed) passed=$((passed + 1)) ;;
      skipped-no-gpu) skipped=$((skipped + 1)) ;;
      *) failed=$((failed + 1)); [ -z "$first_fail" ] && first_fail="$name ($status, exit $rc)" ;;
    esac
    printf '%s\t%s\t%s\t%s\t%s\n' "$id" "$status" "$rc" "$secs" "$name" >> "$logs/tests/tests.tsv"
    say "  [$i/$n] $status (exit $rc, ${secs} s) $name"
    if [ "$status" = skipped-no-gpu ] && [ "$i" = 1 ]; then
      say "    (skipped: $(grep -hos 'SKIPPED: no CUDA device[^<]*' "$logs/tests/$id.xml" | head -n 1))"
    fi
  done 3< "$logs/tests/names.txt"
  current_step=gpu-tests
  printf 'first_failing\t%s\nfirst_faulting\t%s\n' "$first_fail" "$first_fault" > "$logs/tests/first.tsv"
  local note="$passed passed, $failed failed, $skipped skipped without a GPU, $notrun not run for time, of $n"
  [ -n "$first_fail" ] && say "FIRST FAILING CASE: $first_fail"
  [ -n "$first_fault" ] && say "FIRST FAULTING CASE: $first_fault"
  if [ "$failed" -gt 0 ] || { [ "$skipped" -gt 0 ] && [ "$dry" = 0 ]; }; then
    record gpu-tests failed 1 $(( $(date +%s) - t_all )) "$note"
  else
    record gpu-tests ok 0 $(( $(date +%s) - t_all )) "$note"
  fi
  if [ "$failed" -gt 0 ]; then
    fail "gpu-tests: $failed of $n cases failed; first failing: $first_fail${first_fault:+; first faulting: $first_fault}"
  fi
  if [ "$skipped" -gt 0 ] && [ "$dry" = 0 ]; then
    fail "gpu-tests: $skipped cases did not see the GPU (cuda_device_count() == 0): check the driver and the libraries"
  fi
  [ "$notrun" -gt 0 ] && incomplete "gpu-tests: $notrun cases not run for time"
  return 0
}

# --- 3: training: the ten-epoch GPU-vs-CPU comparison, then two-epoch GPU runs
# train NAME DEVICE NEED CAP CONFIG [NAME=VALUE for the environment ...] -- [key=value ...]
train() {
  local name=$1 dev=$2 need=$3 cap=$4 config=$5; shift 5
  local envs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  needs_binary "train-$name" clustervae-train || return 0
  [ "$dry" = 1 ] && dev=cpu
  # the dry run's stand-ins: one short epoch on the CPU (the last key=value wins)
  local small=(); [ "$dry" = 1 ] && small=(epochs=1 train_limit=2000 test_limit=1000)
  run_step fail "train-$name" "$need" "$cap" "$logs/train-$name.log" "${kit_env[@]}" "${envs[@]}" \
    "$kit/clustervae-train" "$kit/$config" device="$dev" data_dir="$kit/data" out="$out_dir/runs/$name" \
    name="$name" progress=lines "$@" "${small[@]}"
}

# graph_check NAME on|off: a graph-on GPU run must have replayed its recorded step
graph_check() {
  local name=$1 want=$2 dir metrics replays recfail status note
  dir="$(run_dir_of "$name")"; metrics="$dir/metrics.json"
  replays="$(metric "$metrics" cuda_graph_replays)"
  recfail=$(grep -c "recording the step as a CUDA Graph failed" "$logs/train-$name.log" 2>/dev/null || true)
  note="cuda_graph_replays ${replays:-missing}; 'recording ... failed' in the log: ${recfail:-0}"
  if [ ! -f "$metrics" ] && [ "${recfail:-0}" = 0 ]; then
    # the run's own failure (or skip) is already recorded: not a second failure
    record "graph-$name" not-checked-no-run 125 0 "no metrics.json: train-$name failed or was skipped"; return 0
  fi
  if [ "$want" = on ] && [ "${recfail:-0}" -gt 0 ]; then status=failed
  elif [ "$want" = on ] && [ -z "$replays" ]; then status=failed
  elif [ "$want" = on ] && [ "$replays" = 0 ]; then status=failed
  elif [ "$want" = off ] && [ -n "$replays" ] && [ "$replays" != 0 ]; then status=failed; note="$note (the graph was off)"
  else status=ok; fi
  if [ "$dry" = 1 ]; then
    record "graph-$name" "not-judged-dry-run" 0 0 "$note (the CPU records no graph)"
  elif [ "$status" = failed ]; then
    record "graph-$name" failed 1 0 "$note"
    say "GRAPH CHECK FAILED for $name: $note"
    if [ "$want" = on ]; then fail "graph-$name: the step did not run as a replayed CUDA Graph ($note)"
    else fail "graph-$name: cuda_graph=false, yet a graph was replayed ($note)"; fi
  else
    record "graph-$name" ok 0 0 "$note"
  fi
}

# The ten-epoch GPU-vs-CPU comparison: trajectories diverge like two seeds, so accuracies and the
# like are reported as differences (in the JSON), not judged. The test BCE alone is judged, loosely:
# |GPU - CPU| <= max(3, 3 % of the CPU's) nats per image; a wrong gradient shows far beyond that.
compare_bce() {
  current_step=compare-bce
  local g c key note="" bad=0 have=0
  g="$(run_dir_of gpu)/metrics.json"; c="$(run_dir_of cpu)/metrics.json"
  if [ ! -f "$g" ] || [ ! -f "$c" ]; then
    record compare-bce not-run 125 0 "needs both runs' metrics.json"; incomplete "compare-bce: a run is missing"; return 0
  fi
  for key in test_bce_mean test_bce_sampled; do
    local gv cv verdict diff limit
    gv="$(metric "$g" "$key")"; cv="$(metric "$c" "$key")"
    if [ -z "$gv" ] || [ -z "$cv" ]; then note="$note $key: missing;"; continue; fi
    have=1
    read -r verdict diff limit < <(awk -v g="$gv" -v c="$cv" 'BEGIN { d = g - c; a = d < 0 ? -d : d;
      l = 0.03 * (c < 0 ? -c : c); if (l < 3) l = 3; printf "%s %g %g\n", (g == g && c == c && a <= l) ? "within" : "outside", d, l }')
    note="$note $key gpu $gv cpu $cv difference $diff (limit $limit, $verdict);"
    [ "$verdict" = within ] || bad=1
  done
  note="${note# }"; note="${note%;}"
  if [ "$have" = 0 ]; then record compare-bce failed 1 0 "$note"; fail "compare-bce: no BCE in metrics.json"
  elif [ "$bad" = 1 ]; then record compare-bce failed 1 0 "$note"; fail "compare-bce: GPU and CPU test BCE differ beyond the limit:$note"
  else record compare-bce ok 0 0 "$note"; fi
}

training() {
  current_step=training
  # ten epochs each (the config's); the GPU run with the graph (the default)
  train gpu cuda 60 150 mnist_lambdahot.json
  train cpu cpu 60 240 mnist_lambdahot.json
  compare_bce
  graph_check gpu on
  # two epochs each: the graph off (its benefit), the conv net (cuDNN), no cuBLASLt epilogue
  train gpu-nograph cuda 25 60 mnist_lambdahot.json -- epochs=2 cuda_graph=false
  graph_check gpu-nograph off
  train conv-gpu cuda 30 90 mnist_lambdahot_conv.json -- epochs=2
  graph_check conv-gpu on
  train unfused-gpu cuda 25 60 mnist_lambdahot.json CLUSTERVAE_CUBLASLT=0 -- epochs=2
  graph_check unfused-gpu on
}

# --- 4: benchmarks
benchmarks() {
  current_step=benchmarks
  mkdir -p "$out_dir/bench"
  local bench_device=device=cuda sizes=60000:20:10,60000:20:64,1048576:32:64,1048576:32:256 ops=() iters=()
  if [ "$dry" = 1 ]; then bench_device=device=cpu; sizes=5000:20:10,5000:20:64; ops=(ops=limits); iters=(iterations=1); fi
  if needs_binary bench-ops bench_backend_ops; then
    run_step fail bench-ops 30 90 "$logs/bench-ops.log" "${kit_env[@]}" "$kit/bench_backend_ops" "$bench_device" \
      "${ops[@]}" out="$out_dir/bench/backend-ops.json"
    # Lloyd by both assignment routes (the direct kernel; the GEMM route), for the K at which the
    # CUDA backend switches (CLUSTERVAE_LLOYD_GEMM_MIN_K, engine/backend/cuda/cuda_backend.cpp)
    run_step fail bench-lloyd-direct 20 60 "$logs/bench-lloyd-direct.log" "${kit_env[@]}" CLUSTERVAE_LLOYD_GEMM_MIN_K=1000000000 \
      "$kit/bench_backend_ops" "$bench_device" ops=lloyd sizes="$sizes" "${iters[@]}" out="$out_dir/bench/lloyd-direct.json"
    run_step fail bench-lloyd-gemm 20 60 "$logs/bench-lloyd-gemm.log" "${kit_env[@]}" CLUSTERVAE_LLOYD_GEMM_MIN_K=1 \
      "$kit/bench_backend_ops" "$bench_device" ops=lloyd sizes="$sizes" "${iters[@]}" out="$out_dir/bench/lloyd-gemm.json"
  fi
  # PyTorch eager beside clustervae: python3 with its own libraries (no kit environment)
  current_step=torch-probe
  local probe=0 torch_dev=cuda torch_small=()
  timeout "$(capped 90)" python3 -c 'import torch, sys; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available()); sys.exit(0 if torch.cuda.is_available() else 3)' \
    < /dev/null > "$logs/torch-probe.log" 2>&1 || probe=$?
  [ "$dry" = 1 ] && [ "$probe" = 3 ] && probe=0
  if [ "$dry" = 1 ]; then torch_dev=cpu; torch_small=(--epochs 1 --train-limit 2000 --test-limit 1000); fi
  if [ "$probe" != 0 ]; then
    record torch-eager not-run-no-torch "$probe" 0 "$(tail -n 1 "$logs/torch-probe.log")"
    warn "torch-eager: no PyTorch with CUDA here (probe exit $probe): the PyTorch peer was not timed"
    return 0
  fi
  local arch
  for arch in mlp conv; do
    local config=mnist_lambdahot.json; [ "$arch" = conv ] && config=mnist_lambdahot_conv.json
    run_step warn "torch-eager-$arch" 30 90 "$logs/torch-eager-$arch.log" env NVIDIA_TF32_OVERRIDE=0 PYTHONUNBUFFERED=1 \
      python3 "$repo/bench/torch_reference.py" --config "$kit/$config" --device "$torch_dev" --epochs 2 --time-only --quiet \
      --data-dir "$kit/data" --out "$out_dir/bench/torch-eager-$arch.json" "${torch_small[@]}"
  done
}

# --- 5: the GPU run's report (its t-SNE of 10,000 test points runs on the GPU)
report() {
  current_step=report
  needs_binary report clustervae-report || return 0
  local dir; dir="$(run_dir_of gpu)"
  if [ -z "$dir" ]; then
    record report not-run-no-run-folder 125 0 "no runs/gpu/*: train-gpu failed or was skipped"
    incomplete "report: no GPU run folder"; return 0
  fi
  local args=(device=cuda cache=none)
  [ "$dry" = 1 ] && args=(device=cpu cache=none tsne_points=500 tsne_iterations=100 samples_per_class=20 classifier_epochs=1)
  run_step fail report 30 150 "$logs/report.log" "${kit_env[@]}" "$kit/clustervae-report" "$dir" "${args[@]}"
}

# --- 6: compute-sanitizer, last, each capped to a share of the time left
# sanitize TOOL SHARE_PERCENT SPEC [OPTION ...]
sanitize() {
  local tool=$1 share=$2 spec=$3; shift 3
  local name="sanitizer-$tool" log="$logs/$tool.log"
  if [ "$dry" = 1 ]; then
    record "$name" skipped-dry-run 125 0 "compute-sanitizer: ${sanitizer:-not found}"; return 0
  fi
  needs_binary "$name" "$tests_bin" || return 0
  if [ -z "$sanitizer" ]; then
    record "$name" unavailable-not-found 127 0; incomplete "$name: compute-sanitizer not found"; return 0
  fi
  if [ "$sanitizer_refused" = 1 ]; then
    record "$name" unavailable-device 125 0 "an earlier tool was refused"; incomplete "$name: compute-sanitizer refuses this device"; return 0
  fi
  if ! fits 20; then record "$name" skipped-for-time 125 0; incomplete "$name: skipped for time"; return 0; fi
  local cap=$(( $(seconds_left) * share / 100 )); [ "$cap" -lt 20 ] && cap=20
  current_step=$name
  local t0 rc=0 status; t0=$(date +%s)
  timeout -k 10 "$(capped "$cap")" "${kit_env[@]}" "$sanitizer" --tool "$tool" --print-limit 100 --error-exitcode 86 \
    --log-file "$log" "$@" "$kit/$tests_bin" "$spec" -r compact -d yes < /dev/null > "$logs/$tool-tests.log" 2>&1 || rc=$?
  if grep -qsE "Device not supported|not supported on this" "$log" "$logs/$tool-tests.log"; then
    status="unavailable-device"; sanitizer_refused=1; incomplete "$name: compute-sanitizer does not support this device ($runtime_guess)"
  elif grep -qsE "ERROR SUMMARY: [1-9]|SUMMARY: [0-9]+ hazards? displayed \([1-9][0-9]* error" "$log" || [ "$rc" = 86 ]; then
    status=errors; fail "$name: compute-sanitizer $tool found errors, see logs/$tool.log"
  elif [ "$rc" = 0 ]; then status=clean
  elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then status=timed-out; incomplete "$name: did not finish in $cap s"
  elif grep -qs "ERROR SUMMARY: 0 errors" "$log"; then status=clean-tests-failed   # the plain run judges the tests
  else status=could-not-run; incomplete "$name: compute-sanitizer exited $rc (see logs/$tool.log)"; fi
  local summary; summary="$(grep -hoE '(ERROR|RACECHECK) SUMMARY: [0-9]+ [a-z]+' "$log" 2>/dev/null | tail -n 1 || true)"
  record "$name" "$status" "$rc" $(( $(date +%s) - t0 )) "cap $cap s${summary:+; $summary}; log: logs/$tool.log"
}
sanitizer_refused=0

sanitizers() {
  current_step=sanitizers
  sanitizer="$(find_sanitizer)"
  # every case but the report-sized t-SNE ([large]); initcheck and synccheck: the model and graph cases.
  # racecheck and synccheck look at the project's kernels only (namespace cvae), memcheck and initcheck
  # at every kernel (a bad pointer shows up inside cuBLAS/cuDNN too)
  sanitize memcheck 40 "~[large]"
  sanitize racecheck 45 "~[large]" --kernel-name kns=cvae
  sanitize initcheck 50 "[model],[graph]"
  sanitize synccheck 100 "[model],[graph]" --kernel-name kns=cvae
}

# --- the end, always: the JSON, the tar, $OUT
json_string() {  # a JSON string literal
  printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' | tr -d '\000-\010\013-\037' | tr '\n' ' ')"
}
json_list() { local first=1 x; printf '['; for x in "$@"; do [ "$first" = 1 ] || printf ', '; first=0; json_string "$x"; done; printf ']'; }

# The minimal JSON when the summary could not be written: the verdict and every step's exit code.
minimal_json() {
  local json=$1 why=$2
  {
    printf '{\n  "schema": "clustervae-gpu-check/2",\n  "summary_failed": %s,\n' "$(json_string "$why")"
    printf '  "dry_run": %s,\n' "$([ "$dry" = 1 ] && echo true || echo false)"
    printf '  "verdict": {"exit_code": %s, "failures": %s, "not_available": %s, "incomplete": %s, "warnings": %s},\n' \
      "$exit_code" "$(json_list "${failures[@]}")" "$(json_list "${unavailable[@]}")" "$(json_list "${incomplete[@]}")" "$(json_list "${warnings[@]}")"
    printf '  "device": %s,\n  "runtime": %s,\n' "$(json_string "$gpu_line")" "$(json_string "$runtime_guess")"
    printf '  "steps": ['
    local first=1 name status rc secs left note
    if [ -f "$logs/steps.tsv" ]; then
      while IFS=$'\t' read -r name status rc secs left note; do
        [ "$name" = step ] && continue
        [ "$first" = 1 ] || printf ','; first=0
        printf '\n    {"name": %s, "status": %s, "exit_code": %s, "seconds": %s, "budget_left_s": %s, "note": %s}' \
          "$(json_string "$name")" "$(json_string "$status")" "${rc:-null}" "${secs:-null}" "${left:-null}" "$(json_string "$note")"
      done < "$logs/steps.tsv"
    fi
    printf '\n  ],\n  "gpu_test_cases": ['
    first=1
    local id
    if [ -f "$logs/tests/tests.tsv" ]; then
      while IFS=$'\t' read -r id status rc secs name; do
        [ "$first" = 1 ] || printf ','; first=0
        printf '\n    {"id": %s, "status": %s, "exit_code": %s, "seconds": %s, "name": %s}' \
          "$(json_string "$id")" "$(json_string "$status")" "${rc:-null}" "${secs:-null}" "$(json_string "$name")"
      done < "$logs/tests/tests.tsv"
    fi
    printf '\n  ],\n  "first_failing_case": %s,\n  "first_faulting_case": %s\n}\n' \
      "$(json_string "$(awk -F'\t' '$1 == "first_failing" {print $2}' "$logs/tests/first.tsv" 2>/dev/null)")" \
      "$(json_string "$(awk -F'\t' '$1 == "first_faulting" {print $2}' "$logs/tests/first.tsv" 2>/dev/null)")"
  } > "$json"
}

# shrink_copy SRC DST LIMIT: DST = SRC, or for a text file over LIMIT bytes its head and tail
shrink_copy() {
  local src=$1 dst=$2 limit=$3 size; size=$(stat -c %s "$src")
  mkdir -p "$(dirname "$dst")"
  if [ "$size" -le "$limit" ]; then cp "$src" "$dst"; return 0; fi
  case "$src" in
    *.log|*.txt|*.xml|*.json|*.jsonl|*.tsv|*.csv|*.html|*.svg|*.md)
      { head -c $((limit / 2)) "$src"; printf '\n[... gpu-check cut %d bytes here ...]\n' $((size - limit)); tail -c $((limit / 2)) "$src"; } > "$dst" ;;
    *) echo "${src#"$out_dir"/} ($size bytes)" >> "$stage/LEFT-OUT.txt" ;;
  esac
}

# pack TAR LIMIT: logs, bench results, the JSON and the runs (no weights), each file cut to LIMIT bytes
pack() {
  local tar=$1 limit=$2 f rel
  stage="$(mktemp -d /tmp/gpu-check-stage-XXXXXX)/gpu-check-$stamp"; mkdir -p "$stage"
  : > "$stage/LEFT-OUT.txt"
  while IFS= read -r -d '' f; do
    rel="${f#"$out_dir"/}"
    case "$rel" in
      *.safetensors|*.tar.gz) echo "$rel ($(stat -c %s "$f") bytes)" >> "$stage/LEFT-OUT.txt"; continue ;;
    esac
    shrink_copy "$f" "$stage/$rel" "$limit"
  done < <(find "$out_dir" -type f -print0)
  tar -czf "$tar" -C "$(dirname "$stage")" "gpu-check-$stamp"
  rm -rf "$(dirname "$stage")"
}

finish() {
  local rc=$?
  set +eu; trap - ERR
  if [ "$finished" = 1 ]; then return; fi
  finished=1
  if [ -z "$logs" ] || [ ! -d "$logs" ]; then exit "$rc"; fi
  local aborted=""
  if [ "$main_done" != 1 ]; then
    if [ -n "$fatal_code" ]; then
      if [ "$fatal_code" = 2 ]; then not_avail "$fatal_msg"; else fail "$fatal_msg"; fi
    else
      aborted="the script stopped in step '$current_step' at line ${err_line:-?} (${err_cmd:-?}), exit $rc"
      fail "$aborted"
    fi
  fi
  exit_code=0
  if [ ${#failures[@]} -gt 0 ]; then exit_code=1
  elif [ ${#unavailable[@]} -gt 0 ]; then exit_code=2
  elif [ ${#incomplete[@]} -gt 0 ]; then exit_code=4; fi
  local judged=$exit_code
  [ "$dry" = 1 ] && exit_code=2
  local used=$(( $(date +%s) - started_at ))
  {
    printf 'mode\t%s\n' "$mode"; printf 'dry\t%s\n' "$dry"; printf 'stamp\t%s\n' "$stamp"
    printf 'exit_code\t%s\n' "$exit_code"; printf 'judged_exit_code\t%s\n' "$judged"
    printf 'budget_s\t%s\n' "$budget_s"; printf 'reserve_s\t%s\n' "$reserve_s"; printf 'used_s\t%s\n' "$used"
    printf 'gpu_line\t%s\n' "$gpu_line"; printf 'runtime_guess\t%s\n' "$runtime_guess"
    printf 'sanitizer\t%s\n' "$sanitizer"; printf 'kit\t%s\n' "$kit"; printf 'kit_ld_library_path\t%s\n' "$kit_ld"
    printf 'aborted\t%s\n' "$aborted"; printf 'repo\t%s\n' "$repo"
  } > "$logs/facts.tsv"
  { for x in "${failures[@]}"; do printf 'failure\t%s\n' "$x"; done
    for x in "${unavailable[@]}"; do printf 'not_available\t%s\n' "$x"; done
    for x in "${incomplete[@]}"; do printf 'incomplete\t%s\n' "$x"; done
    for x in "${warnings[@]}"; do printf 'warning\t%s\n' "$x"; done; } > "$logs/verdict.tsv"
  local json="$out_dir/gpu-check.json" summary_rc=0
  rm -f "$json"
  timeout 60 python3 "$repo/scripts/gpu_check_summary.py" "$out_dir" "$json" > "$logs/summary.log" 2>&1 || summary_rc=$?
  cat "$logs/summary.log"
  if [ "$summary_rc" != 0 ] || [ ! -s "$json" ] || ! grep -q '"schema"' "$json"; then
    say "the summary failed (exit $summary_rc, see logs/summary.log): writing the minimal JSON"
    minimal_json "$json" "scripts/gpu_check_summary.py exited $summary_rc: $(tail -n 1 "$logs/summary.log" 2>/dev/null)"
  fi
  # the JSON first (it comes back even if packing the logs goes wrong), then one tar of everything
  if [ -n "${OUT:-}" ]; then mkdir -p "$OUT" && cp "$json" "$OUT/gpu-check-$stamp.json"; fi
  [ -n "$unpacked" ] && rm -rf "$unpacked"
  local tar="$out_dir/gpu-check-$stamp-logs.tar.gz" limit=$((4 * 1024 * 1024)) max=$((15 * 1024 * 1024))
  pack "$tar" "$limit"
  while [ "$(stat -c %s "$tar")" -gt "$max" ] && [ "$limit" -gt 16384 ]; do
    limit=$((limit / 4)); say "the tar is over $((max / 1048576)) MiB: packing again with each file cut to $limit bytes"; pack "$tar" "$limit"
  done
  say "result: $json; logs: $tar ($(stat -c %s "$tar") bytes)"
  if [ -n "${OUT:-}" ]; then
    cp "$tar" "$OUT/gpu-check-$stamp-logs.tar.gz" &&
      say "copied to \$OUT: gpu-check-$stamp.json, gpu-check-$stamp-logs.tar.gz"
  fi
  local x
  for x in "${failures[@]}"; do say "FAILED: $x"; done
  for x in "${unavailable[@]}"; do say "not available: $x"; done
  for x in "${incomplete[@]}"; do say "not complete: $x"; done
  case "$exit_code" in
    0) say "all clean (${used} s of ${budget_s} s)" ;;
    1) say "exit 1: failures above (${used} s)" ;;
    2) if [ "$dry" = 1 ]; then say "exit 2: dry run finished (no GPU, so nothing was checked; it would have been $judged)";
       else say "exit 2: no GPU, no kit or a library missing"; fi ;;
    4) say "exit 4: nothing failed, but not everything ran" ;;
  esac
  exit "$exit_code"
}

run_checks() {
  stamp="$(date -u +%Y%m%dT%H%M%SZ)"
  if [ "$dry" = 1 ]; then out_dir="$(mktemp -d /tmp/gpu-check-dry-XXXXXX)"; else out_dir="$repo/bench/results/gpu-check-$stamp"; fi
  logs="$out_dir/logs"
  mkdir -p "$logs" "$out_dir/runs"
  printf 'step\tstatus\texit_code\tseconds\tbudget_left_s\tnote\n' > "$logs/steps.tsv"
  trap 'err_line=$LINENO; err_cmd=$BASH_COMMAND' ERR
  trap finish EXIT
  trap 'exit 143' TERM INT HUP
  say "results in $out_dir; budget ${budget_s} s (${reserve_s} s of it kept for the JSON and the tar)"

  machine_facts
  if [ -z "$gpu_line" ] && [ "$dry" = 0 ]; then
    fatal 2 "no GPU on this machine (nvidia-smi $(command -v nvidia-smi >/dev/null 2>&1 && echo 'lists no device' || echo 'is not installed')); nothing was run"
  fi
  [ "$dry" = 1 ] && say "dry run: no GPU needed; every step runs with CPU stand-ins"
  [ -x "$kit/$tests_bin" ] || [ -d "$kit" ] ||
    fatal 2 "no device kit at $kit: run 'scripts/gpu-check.sh --prepare' where the project builds, then carry ${kit#"$repo"/}"
  load_check
  gpu_tests
  training
  benchmarks
  report
  sanitizers
  current_step=end
  main_done=1
}

case "$mode" in
  prepare) prepare ;;
  run) dry=0; run_checks ;;
  dry-run) dry=1; run_checks ;;
esac

# shellcheck shell=bash
# Sourced first by every bench/*.sh: the steps they all take, spelled once, so that the scripts
# read their settings, name their results and record the machine alike (the results are compared
# across scripts and runs).
#   needs: $bench, the script's name (the prefix of its messages)
#   sets:  $repo (the repository root), $data_dir (CLUSTERVAE_DATA, default data) and $build_dir
#          (BUILD_DIR, default build; the scripts that take no BUILD_DIR use build/ itself)
: "${bench:?set bench=NAME, the script name, before sourcing bench/common.sh}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC2034  # read by the scripts that source this
data_dir="${CLUSTERVAE_DATA:-$repo/data}"
# shellcheck disable=SC2034
build_dir="${BUILD_DIR:-$repo/build}"

# The scripts that take their settings from the environment refuse arguments, so that a setting
# given as an argument is not silently ignored.
bench_no_arguments() {  # "$@"
  [ $# -eq 0 ] || { echo "$bench: unknown argument '$1' (settings are environment variables; see the header)" >&2; exit 2; }
}

bench_device() {  # sets $device from DEVICE (cpu)
  device="${DEVICE:-cpu}"
  case "$device" in
    cpu|cuda) ;;
    *) echo "$bench: DEVICE must be cpu or cuda, not '$device'" >&2; exit 2 ;;
  esac
}

# The interpreter with torch: on the CPU Debian's own python3 (its python3-torch), on a GPU whatever
# python3 comes first (Debian's torch is CPU-only); PYTHON wins either way.
bench_python() {  # prints it; needs $device
  if [ "$device" = cpu ]; then echo "${PYTHON:-/usr/bin/python3}"; else echo "${PYTHON:-python3}"; fi
}

bench_need_binary() {  # path: stops unless it is built (for the scripts that do not build)
  [ -x "$1" ] || { echo "$bench: build first (bash scripts/build.sh)" >&2; exit 2; }
}

bench_git_head() {  # the commit recorded in the results (the scripts that take COMMIT put it first)
  git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown
}

bench_stamp() { date -u +%Y%m%d-%H%M%S; }  # the <date> in the results' names (UTC)

# Recorded before and after a run: a figure measured on a busy machine says so itself.
bench_load_average() { cut -d' ' -f1-3 /proc/loadavg; }

bench_cpu_model() { grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'; }

bench_results_dir() {  # makes bench/results (a fresh clone may lack it) and prints it
  mkdir -p "$repo/bench/results" && echo "$repo/bench/results"
}

bench_scratch() {  # sets $scratch, a folder removed when the script ends
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
}

# The engines alternate, and their order turns round every other repetition, so that a slow drift
# of the machine (heat, other jobs) falls on each engine alike.
bench_order() {  # repetition engine...: prints the engines in that repetition's order
  local rep="$1"
  shift
  if [ $((rep % 2)) = 0 ]; then echo "$@" | tr ' ' '\n' | tac | tr '\n' ' '; else echo "$@"; fi
}

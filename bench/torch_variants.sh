# shellcheck shell=bash
# Sourced by bench/side_by_side.sh and bench/lloyd_side_by_side.sh: variant_setup NAME prints the
# `env` assignments and the extra torch_reference.py flags of one PyTorch set-up, "VAR=.. -- --flag ..";
# variant_env NAME and variant_flags NAME print the one half or the other.
#   needs: $device (cpu|cuda)
# cpu:  openblas[-openmp|-pthread][-haswell|-zen|-sandybridge|-prescott|-skylakex][-1thread][+foreach]
#       Debian's OpenBLAS build chosen for this process only (LD_LIBRARY_PATH; the system's
#       libblas.so.3 is left alone), OPENBLAS_CORETYPE from the core token; -1thread runs PyTorch
#       on one thread whatever THREADS is (on 2 cores it can beat its own 2-thread run).
# cuda: eager | compile | compile-ro | compile-max | graphs  [+foreach]
blas_root=/usr/lib/x86_64-linux-gnu
variant_setup() {
  local name="$1" envs=() flags=() token
  local base="${name%%+*}" extras=""
  [ "$base" = "$name" ] || extras="${name#*+}"
  case "$device" in
    cpu)
      local lib="openblas-pthread" core=""
      IFS=- read -r -a tokens <<< "$base"
      [ "${tokens[0]}" = openblas ] || { echo "bench: unknown torch variant '$name'" >&2; return 2; }
      for token in "${tokens[@]:1}"; do
        case "$token" in
          openmp) lib="openblas-openmp" ;;
          pthread) lib="openblas-pthread" ;;
          haswell) core=Haswell ;;
          zen) core=Zen ;;
          sandybridge) core=Sandybridge ;;
          prescott) core=Prescott ;;
          skylakex) core=SkylakeX ;;
          1thread) flags+=(--threads 1) ;;
          *) echo "bench: unknown token '$token' in torch variant '$name'" >&2; return 2 ;;
        esac
      done
      # Pick the OpenBLAS build for this process only (the system's libblas.so.3 is left alone).
      [ -d "$blas_root/$lib" ] && envs+=("LD_LIBRARY_PATH=$blas_root/$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
      envs+=("OPENBLAS_CORETYPE=$core")
      ;;
    cuda)
      case "$base" in
        eager) ;;
        compile) flags+=(--compile default) ;;
        compile-ro) flags+=(--compile reduce-overhead) ;;
        compile-max) flags+=(--compile max-autotune) ;;
        graphs) flags+=(--cuda-graphs) ;;
        *) echo "bench: unknown torch variant '$name'" >&2; return 2 ;;
      esac
      ;;
  esac
  for token in ${extras//+/ }; do
    case "$token" in
      foreach) flags+=(--foreach) ;;
      *) echo "bench: unknown option '+$token' in torch variant '$name'" >&2; return 2 ;;
    esac
  done
  echo "${envs[*]:-} -- ${flags[*]:-}"
}

# The two halves of variant_setup's answer: the `env` assignments, and the script's extra flags.
variant_env() {  # name
  local setup
  setup="$(variant_setup "$1")" || return
  echo "${setup%% -- *}"
}

variant_flags() {  # name
  local setup
  setup="$(variant_setup "$1")" || return
  echo "${setup#* -- }"
}

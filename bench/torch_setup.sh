# Sourced by bench/side_by_side.sh, bench/lloyd_side_by_side.sh and bench/table1_torch.sh: makes
# sure a PyTorch is there and sets $python to it, then makes sure the data and the clustervae build
# are there.
#   needs: bench/common.sh sourced ($repo, $data_dir, $build_dir: the clustervae build folder),
#   $device (cpu|cuda), $dataset (or any one data set to check)
# CPU: Debian's python3-torch for /usr/bin/python3 (PYTHON= to use another), plus python3-scipy
# (Hungarian), python3-threadpoolctl (which BLAS core is in use) and Debian's two OpenBLAS builds
# (pthreads, OpenMP), installed with apt-get when missing (as root; `apt-get update` only when the
# first try fails). CUDA: Debian's torch is CPU-only, so PYTHON must name an interpreter whose torch
# sees the GPU; nothing is installed.
python="$(bench_python)"
if [ "$device" = cpu ]; then
  torch_packages=(python3-torch python3-scipy python3-threadpoolctl libopenblas0-pthread libopenblas0-openmp)
  torch_missing=()
  for p in "${torch_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || torch_missing+=("$p")
  done
  if [ ${#torch_missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "bench: missing Debian packages ${torch_missing[*]}; install them with apt-get (as root)" >&2; exit 2
    fi
    echo "bench: installing ${torch_missing[*]}" >&2
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${torch_missing[@]}" >/dev/null 2>&1; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${torch_missing[@]}" >/dev/null
    fi
  fi
else
  "$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null || {
    echo "bench: DEVICE=cuda needs a PyTorch with CUDA for $python (set PYTHON=); Debian's python3-torch is CPU-only" >&2
    exit 2; }
fi
"$python" -c 'import torch, numpy' 2>/dev/null || { echo "bench: $python cannot import torch and numpy" >&2; exit 2; }
if [ ! -s "$data_dir/${dataset:-mnist}/train-images-idx3-ubyte" ] || [ ! -x "$build_dir/clustervae-train" ] ||
   [ ! -x "$build_dir/clustervae-table1" ]; then
  bash "$repo/scripts/setup.sh"
fi
[ -x "$build_dir/clustervae-train" ] && [ -x "$build_dir/clustervae-table1" ] || BUILD_DIR="$build_dir" bash "$repo/scripts/build.sh"

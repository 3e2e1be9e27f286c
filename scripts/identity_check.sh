#!/usr/bin/env bash
# A fingerprint of one short CPU run per method and architecture, for changes that must not move a
# number (refactors): the weights, the centres, log.jsonl and metrics.json, with the keys that
# measure time or name the build left out. Run it before and after and diff the two outputs.
#   scripts/identity_check.sh BUILD_DIR > fingerprint.txt
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:?usage: identity_check.sh BUILD_DIR}" && pwd)"
train="$build/clustervae-train"
[ -x "$train" ] || { echo "identity_check: $train not built" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$repo"
for arch in mlp conv; do
  for method in vae beta cvae lambdahot kmeans movable; do
    config="configs/mnist_${method}.json"
    [ "$arch" = conv ] && config="configs/mnist_${method}_conv.json"
    limit=1500; [ "$arch" = conv ] && limit=400
    "$train" "$config" epochs=2 train_limit=$limit test_limit=300 threads=1 progress=off \
      out="$work/$arch-$method" > /dev/null 2> "$work/stderr" ||
      { cat "$work/stderr" >&2; exit 1; }
    run="$(ls -d "$work/$arch-$method"/*/)"
    python3 "$repo/scripts/run_fingerprint.py" "$run" "$arch $method"
  done
done

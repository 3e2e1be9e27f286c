#!/usr/bin/env bash
# The main job from a fresh machine: set-up, build, train the default experiment (Lambda-Hot VAE on
# MNIST, 10 epochs; on the GPU when one is present, else on the CPU) and print its metrics and run
# folder. Extra key=value arguments go to clustervae-train, e.g. epochs=2 device=cpu.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/setup.sh"
BUILD_TARGETS=clustervae-train bash "$repo/scripts/build.sh"  # the one program the job runs
cd "$repo"
exec ./build/clustervae-train configs/mnist_lambdahot.json "$@"

#!/usr/bin/env bash
# Builds mlc (installing what it needs) and runs the Fashion-MNIST lifecycle of
# examples/fashion-mnist/Makefile in the catalogue examples/fashion-mnist/.mlc (each run adds two
# versions; `make -C examples/fashion-mnist clean` starts afresh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
make -C examples/fashion-mnist MLC="$PWD/build/bin/mlc"

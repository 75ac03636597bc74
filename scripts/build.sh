#!/usr/bin/env bash
# Installs the Debian packages mlc needs (idempotent) and builds it into ./build.
# Extra arguments go to the CMake configure step (e.g. -DMLC_WARNINGS_AS_ERRORS=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build -j "$(nproc)"

#!/usr/bin/env bash
# Builds mlc (installing what it needs) and runs every test: doctest unit tests, the CLI suites
# and the Python interop test, all through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh -DMLC_BUILD_TESTS=ON -DMLC_WARNINGS_AS_ERRORS=ON
ctest --test-dir build --output-on-failure -j "$(nproc)"

#!/usr/bin/env bash
# Installs everything mlc needs to build, run its example and run its tests, from Debian 12's
# packages only. Idempotent: packages already present are skipped, so a second run is quick.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev            # libtorch 1.13 (CPU), CMake package Torch
  libopenblas0-openmp     # fp32 matmul 6 -> ~180 GFLOP/s on 2 cores versus reference BLAS
  libcli11-dev nlohmann-json3-dev libsqlite3-dev libfmt-dev doctest-dev zlib1g-dev libssl-dev
  dataset-fashion-mnist   # real data: /usr/share/datasets/fashion-mnist
  python3-torch           # interop test: Python's torch.jit.load reads mlc's exports
  python3-jsonschema      # tests validate every --json output against schemas/
  python3-sklearn         # test_eval_metrics.sh checks eval's metrics against scikit-learn's
  man-db                  # `man -l man/mlc.1` in the tests
  zsh                     # test_completion.sh loads and runs the zsh completion (completions/_mlc)
  json-schema-test-suite  # the official JSON Schema tests, run against mlc's validator
  clang-14 libfuzzer-14-dev libclang-rt-14-dev  # the fuzzers (tests/fuzz): libFuzzer, ASan, UBSan
  libboost-dev            # Boost.Beast (header-only): the HTTP server of mlc serve
  rapidjson-dev           # RapidJSON: infer request bodies, parsed in place
  libstb-dev              # stb_image: PNG and JPEG images for predict --input
  llvm-14                 # llvm-symbolizer: sanitizer reports name functions and lines
  prometheus              # promtool: tests/cli/test_serve.sh lints mlc serve's /metrics with it
  wrk                     # the HTTP load generator of bench/ (mlc serve against its peer)
  strace                  # test_serve_swap.sh holds a deploy's directory exchange back with it
  chromium                # test_card.sh renders mlc card's HTML headless (screenshot, DOM)
  python3-pil             # ... and checks the screenshot's pixels
  libonnx-dev             # export --variant onnx: ONNX's protobuf classes and checker (libonnx 1.12)
  python3-onnx            # test_onnx.sh: onnx.checker.check_model(full_check=True) on the variants
  postgresql              # PostgreSQL 15 (initdb, pg_ctl, pgbench): tests/cli/postgres_server.sh, bench/pg_allocation
  libpq-dev               # libpq 15: the PostgreSQL catalogue's client library (issue 11)
  python3-psycopg2        # the CLI suites read a PostgreSQL catalogue's rows for their checks (tests/cli/catalog_db.py)
  libgloo-dev             # Gloo's headers: libtorch's c10d ProcessGroupGloo (built into Debian's libtorch) needs them to compile (issue 12)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# test_onnx.sh runs the ONNX variants with onnxruntime-node (from npm, into the build tree):
# Debian's nodejs and npm, unless a node with npm is there already (a NodeSource nodejs bundles npm
# and conflicts with Debian's npm package).
command -v npm > /dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# clang-tidy-14 with the repository's .clang-tidy over the files that do not include libtorch
# (lib/core, lib/data, apps; the libtorch half takes minutes per file), using build/'s
# compile_commands.json (configure build/ first: scripts/build.sh). Prints the warnings; exits 1 if
# there are any. About 10 minutes on 2 cores; not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/compile_commands.json ] || { echo "tidy.sh: configure build/ first (scripts/build.sh)" >&2; exit 2; }
files=$(git ls-files 'lib/core/*.cpp' 'lib/data/*.cpp' 'apps/*.cpp')
out=$(printf '%s\n' $files | xargs -P "$(nproc)" -n 4 clang-tidy-14 -p build --quiet 2>/dev/null | grep -E 'warning:|error:' || true)
if [ -n "$out" ]; then
  printf '%s\n' "$out"
  exit 1
fi
echo "tidy.sh: no warnings"

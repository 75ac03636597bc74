#!/usr/bin/env bash
# The man page renders, and the exit codes it and the README document are the ones mlc uses.
source "$(dirname "$0")/lib.sh"

MANWIDTH=80 man --warnings -l "$MLC_SOURCE_DIR/man/mlc.1" > man.txt 2> man.err
[ ! -s man.err ] || fail "man page warnings: $(cat man.err)"
for command in train eval compare export predict register deploy retire list show history rollback alias edit card verify gc serve catalog; do
  grep -q "^ *$command" man.txt || fail "man page has no section for $command"
done
ok "man -l renders mlc(1) without warnings, with every subcommand"

for code in "0:" "1:" "2:" "3:" "4:" "5:" "6:" "7:" "8:"; do
  grep -q "^| ${code%:} " "$MLC_SOURCE_DIR/README.md" || fail "README exit code table lacks ${code%:}"
done
run_mlc 2 frobnicate
run_mlc 0 --help
run_mlc 0 --version
[ "$OUT" = "$(sed -n 's/^project(mlc VERSION \([0-9.]*\).*/\1/p' "$MLC_SOURCE_DIR/CMakeLists.txt")" ] || fail "--version: $OUT"
ok "README documents every exit code; --help and --version exit 0"

#!/usr/bin/env bash
# kill -9 at random moments during train, export, register --artifact and deploy (at least 50
# killed mid-run): afterwards the catalogue passes SQLite's integrity_check, `mlc verify` is clean
# (no version points at a missing artifact, no deployment directory is half-written), and the
# interrupted command simply runs again. tests/cli/crash_trials.py does the trials.
source "$(dirname "$0")/lib.sh"
"$PYTHON" "$MLC_SOURCE_DIR/tests/cli/make_torchscript.py" a.pt b.pt c.pt
config=$(tiny_fmnist_config)
sed -i 's/"train_limit": 2000/"train_limit": 200/; s/"test_limit": 500/"test_limit": 100/; s/"epochs": 2/"epochs": 1/' "$config"
mkdir -p "$WORK/out"
"$PYTHON" "$MLC_SOURCE_DIR/tests/cli/crash_trials.py" "$MLC_BIN" "$config" a.pt b.pt c.pt || fail "crash trials"
run_mlc 0 --json verify; validate verify
[ "$(json_field "$OUT" "d['ok'], d['recovered']")" = "True []" ] || fail "final verify: $OUT"
run_mlc 0 --json list; validate list
ok "kill -9 during train, export, register and deploy: integrity ok, verify clean, each command re-runnable"

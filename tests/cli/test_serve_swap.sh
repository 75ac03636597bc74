#!/usr/bin/env bash
# `mlc serve` live swap under load (issue 8, items 2 and 6): clients send infer requests in a loop
# on keep-alive connections while, from other processes, fmnist goes v1 -> deploy v2 -> rollback
# to v1, another model on the target is retired with --force, a deploy of v3 whose model.pt does
# not match the catalogue is refused by the server (v1 keeps serving, the log says why), and v2 is
# deployed again. Every answer must be 200 (404 for the retired model once it is gone), with the
# model_version the target holds within a second of each change.
source "$(dirname "$0")/lib.sh"
source "$MLC_SOURCE_DIR/tests/cli/serve_lib.sh"

config=$(fmnist_config fmnist)
mlc -q train "$config" --name fmnist > /dev/null
ship fmnist:1 live
for seed in 8 9; do mlc -q train "$config" --name fmnist --seed $seed > /dev/null; done
ship fmnist:2
ship fmnist:3
mlc -q train "$(wine_config)" --name wine > /dev/null
ship wine:1 live

start_server swap live --threads 2
SWAP_PID=$SERVER_PID SWAP_LOG=$SERVER_LOG
wait_until 10 "ready" status_is 200 GET /v2/health/ready
ok "the server loads fmnist:1 and wine:1 from target live"

# The load: four connections on fmnist, one on wine, until $WORK/stop (or 90 s).
events="$WORK/events.txt"
printf '0 0 fmnist 1 start\n0 0 wine 1 start\n' > "$events"
timeout 120 "$PYTHON" "$MLC_SOURCE_DIR/tests/python/serve_load.py" run "$PORT" "$WORK/records.jsonl" \
  "$WORK/stop" 90 fmnist:4 wine:1 > "$WORK/load.out" 2>&1 &
LOAD_PID=$!

# change MODEL VERSION_AFTER WHAT COMMAND...: runs COMMAND and records when it began and ended.
change() {
  local model=$1 version=$2 what=$3; shift 3
  local begin end
  begin=$(date +%s.%N)
  "$@" > "$WORK/change.out" 2>&1 || fail "$what: $(cat "$WORK/change.out")"
  end=$(date +%s.%N)
  echo "$begin $end $model $version $what" >> "$events"
  sleep 3
}

sleep 3
change fmnist 2 "deploy fmnist:2" mlc deploy fmnist:2 --target live
change fmnist 1 "rollback" mlc rollback fmnist --target live
change wine - "retire wine:1 --force" mlc retire wine:1 --force --reason "swap test"
change fmnist 1 "a deploy of fmnist:3 with a corrupt model.pt" \
  timeout 60 "$PYTHON" "$MLC_SOURCE_DIR/tests/python/plant_corrupt_deploy.py" \
  "$MLC_BIN" "$MLC_HOME" live fmnist:3 "$WORK/exports/fmnist:3/model.pt"
change fmnist 2 "deploy fmnist:2 again" mlc deploy fmnist:2 --target live
touch "$WORK/stop"
wait "$LOAD_PID" || fail "the load clients: $(cat "$WORK/load.out")"
kill -0 "$SWAP_PID" 2> /dev/null || fail "the server died under the swaps"

timeout 60 "$PYTHON" "$MLC_SOURCE_DIR/tests/python/serve_load.py" check "$WORK/records.jsonl" "$events" \
  > "$WORK/check.out" 2>&1 || fail "answers under the swaps: $(cat "$WORK/check.out")"
cat "$WORK/check.out"
ok "under load: every answer 200 (404 once wine is retired), model_version following each change within 1 s"

# The log: one line per swap and removal (anything after them in parentheses aside), and why v3
# was not taken.
lines=$(sed -n 's/^\(mlc serve: \(swapped\|removed\) [^(]*[^ (]\)\( (.*)\)\?$/\1/p; s/^\(mlc serve: error:\) .*/\1/p' "$SWAP_LOG" \
  | tr '\n' '|')
[ "$lines" = "mlc serve: swapped fmnist 1 -> 2|mlc serve: swapped fmnist 2 -> 1|mlc serve: removed wine|mlc serve: error:|mlc serve: swapped fmnist 1 -> 2|" ] \
  || fail "swap, removal and error lines: $lines"
error=$(grep '^mlc serve: error: ' "$SWAP_LOG")
[[ "$error" == *fmnist*3* && "$error" == *sha256* ]] || fail "the error should name fmnist:3 and the sha256: $error"
ok "the log: swapped 1 -> 2, 2 -> 1, removed wine, an error naming fmnist and the sha256 (v1 kept), swapped 1 -> 2"

checks swap-metrics "$PORT" fmnist 3 || fail "swap metrics"
ok "metrics count the swaps and the failed load"

stop_server "$SWAP_PID"
[ "$STOP_STATUS" = 0 ] || fail "SIGTERM: exit $STOP_STATUS"
ok "SIGTERM after the swaps: exit 0"

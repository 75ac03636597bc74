#!/usr/bin/env bash
# Interrupted training: kill -9 mid-epoch and `train --resume` ends with the weights of a run that
# was never stopped; SIGTERM/SIGINT save the state and exit 130; progress output on a terminal,
# in a log and with --quiet; bad training settings refused before anything is written.
source "$(dirname "$0")/lib.sh"

# Long enough epochs (~1-2 s each on one thread) to be killed in the middle of one.
cat > slow.json <<JSON
{
  "data": {
    "format": "idx",
    $(fmnist_files_json),
    "train_limit": 12000, "test_limit": 200
  },
  "model": {"architecture": "mlp", "hidden_layers": [512, 512], "dropout": 0.2},
  "training": {"epochs": 3, "batch_size": 64, "seed": 11, "threads": 1,
               "optimizer": {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9, "nesterov": true},
               "schedule": {"name": "cosine", "warmup_steps": 50}, "gradient_clip_norm": 5.0}
}
JSON

# predictions NAME:V: the logits of the first 50 test images, as text, for exact comparison.
predictions() { mlc --json predict "$1" --limit 50 | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)['predictions'])"; }

# wait_for_state: until the running training has saved its first epoch.
wait_for_state() {
  for _ in $(seq 1 600); do
    compgen -G "$MLC_HOME/runs/*/state.pt" > /dev/null && return 0
    sleep 0.05
  done
  fail "no state.pt after 30 s"
}

run_mlc 0 --json train slow.json --name whole
whole_checkpoint=$(json_field "$OUT" "d['checkpoint_sha256']")
[ -z "$(ls -A "$MLC_HOME/runs")" ] || fail "a finished run must remove its directory: $(ls "$MLC_HOME/runs")"
expected=$(predictions whole:1)

"$MLC_BIN" -q train slow.json --name killed > /dev/null 2>&1 &
pid=$!
wait_for_state
sleep 0.7   # into epoch 2
kill -9 $pid
wait $pid 2>/dev/null || true
run_dir=$(ls -d "$MLC_HOME"/runs/killed-*)
[ -f "$run_dir/state.pt" ] || fail "the killed run must keep its state"
cp -a "$run_dir" killed-run-copy
run_mlc 0 --json train --resume killed
validate train
json_field "$OUT" "d['resumed'], d['run'] == '$(basename "$run_dir")', len(d['metrics']['epochs'])" \
  | grep -qx "True True 3" || fail "resume must continue the killed run: $OUT"
[ ! -e "$run_dir" ] || fail "the resumed run must remove its directory once recorded"
[ "$(predictions killed:1)" = "$expected" ] || fail "kill -9 + --resume must give the uninterrupted run's model"
[ "$(json_field "$OUT" "d['checkpoint_sha256']")" = "$whole_checkpoint" ] \
  || fail "kill -9 + --resume must give the uninterrupted run's checkpoint, byte for byte"
run_mlc 0 --json show killed:1
json_field "$OUT" "d['lineage']['run'] == '$(basename "$run_dir")', d['lineage']['resumed']" | grep -qx "True True" \
  || fail "lineage must record the run and that it was resumed: $OUT"
ok "after kill -9 mid-epoch, train --resume ends with the same weights as an uninterrupted run"

# As if killed after recording the version and before removing the run's directory.
cp -a killed-run-copy "$run_dir"
expect_error 6 "run $(basename "$run_dir") already finished as killed:1" train --resume "$(basename "$run_dir")"
[ ! -e "$run_dir" ] || fail "a run found finished must be removed"
run_mlc 0 --json list killed
[ "$(json_field "$OUT" "len(d['versions'])")" = 1 ] || fail "no second version of a finished run: $OUT"
ok "resuming a run that already recorded its version is refused and cleans up"

"$MLC_BIN" train slow.json --name stopped > /dev/null 2> stopped.err &
pid=$!
wait_for_state
sleep 0.3
kill -TERM $pid; sleep 0.05; kill -TERM $pid
status=0; wait $pid || status=$?
[ $status -eq 130 ] || fail "two SIGTERMs must exit 130, got $status: $(cat stopped.err)"
grep -q "stopping after this epoch" stopped.err || fail "the first signal must say what happens: $(cat stopped.err)"
grep -q "^mlc: error: training stopped in epoch [0-9]* after batch [0-9]* of 169; its state is saved; continue with: mlc train --resume stopped-" stopped.err \
  || fail "the second signal stops after the batch and names the run: $(cat stopped.err)"
run_mlc 0 list
case "$OUT" in *stopped*) fail "an interrupted run must not record a version: $OUT" ;; esac
run_mlc 0 --json train --resume stopped
[ "$(predictions stopped:1)" = "$expected" ] || fail "SIGTERM mid-epoch + --resume must give the uninterrupted run's model"
ok "a second SIGTERM saves mid-epoch and exits 130; the resumed run matches too"

"$MLC_BIN" train slow.json --name once > /dev/null 2> once.err &
pid=$!
wait_for_state
kill -INT $pid
status=0; wait $pid || status=$?
[ $status -eq 130 ] || fail "one SIGINT must exit 130 after the epoch, got $status: $(cat once.err)"
grep -q "^mlc: error: training stopped after epoch [12] of 3; its state is saved; continue with: mlc train --resume once-" once.err \
  || fail "one SIGINT stops at the end of the epoch: $(cat once.err)"
ok "one SIGINT finishes the epoch, saves and exits 130"

# A run whose lock another process holds is running: a second resume must refuse. The holder is
# flock(1) on the run's lock file, as a running mlc holds it, because a real resumed run may
# finish its last epoch before a second mlc has even started.
lock_file="$(ls -d "$MLC_HOME"/runs/once-*)/lock"
( flock 9 && exec sleep 600 ) 9>> "$lock_file" &   # the holder is the sleep itself: kill frees the lock
holder=$!
for _ in $(seq 1 600); do   # until the holder has the lock
  flock -n "$lock_file" true || break
  sleep 0.05
done
expect_error 6 "is still running in another mlc process" train --resume once
kill $holder; wait $holder 2>/dev/null || true
run_mlc 0 -q train --resume once
expect_error 4 "no interrupted run 'nothing'" train --resume nothing
expect_error 2 "drop --name" train --resume once --name other
ok "resume refuses a run that is running, an unknown run and a new name"

# Progress: a log gets one line per epoch, a terminal a live line, --quiet nothing.
run_mlc 0 train "$(wine_config)" --name progress --epochs 4
[ "$(printf '%s\n' "$ERR" | grep -c '^epoch [1-4]: train loss ')" -eq 4 ] || fail "one line per epoch in a log: $ERR"
case "$ERR" in *ETA*) fail "no live progress outside a terminal: $ERR" ;; esac
run_mlc 0 -q train "$(wine_config)" --name progress --epochs 2
[ -z "$ERR" ] || fail "--quiet must print nothing on stderr: $ERR"
[ -n "$OUT" ] || fail "--quiet still prints the result"
script -qec "$MLC_BIN train $(wine_config) --name progress --epochs 2" /dev/null > tty.out
grep -q "epoch 1/2  batch [0-9]*/8  loss [0-9.]*  [0-9]* samples/s  ETA 0:0" tty.out \
  || fail "a terminal gets a live batch line: $(cat -v tty.out)"
ok "progress: a line per epoch in logs, a live line on a terminal, nothing with --quiet"

run_mlc 0 show progress:1
grep -Eq "epoch +train_loss +val_accuracy +val_loss" <<< "$OUT" || fail "show prints the learning curve: $OUT"
grep -Eq "^ +[0-9]+\* " <<< "$OUT" || fail "show marks the kept epoch: $OUT"
ok "show prints the learning curve and marks the epoch the version kept"

# Bad training settings: refused before anything is written, naming the key.
before=$(catalogue_fingerprint)
unchanged() { [ "$(catalogue_fingerprint)" = "$before" ] || fail "$1 changed the catalogue, the store or the runs"; }
expect_error 5 "training.optimizer.learning_rate: must be a number > 0, got -0.1" \
  train "$(wine_config)" --name bad --set training.optimizer.learning_rate=-0.1
unchanged "a negative learning rate"
expect_error 5 "training.schedule: missing required key 'step_size'" \
  train "$(wine_config)" --name bad --set 'training.schedule={"name": "step"}'
unchanged "a schedule without its parameters"
expect_error 5 "training.optimizer: unknown key 'momentum'" \
  train "$(wine_config)" --name bad --set training.optimizer.momentum=0.9
unchanged "momentum on adam"
expect_error 5 "training.early_stopping.metric: 'validation_r2' is not reported for classification" \
  train "$(wine_config)" --name bad --set 'training.early_stopping={"metric": "validation_r2", "patience": 2}'
unchanged "early stopping on a regression metric"
ok "bad optimizer, schedule and early-stopping settings are refused with the key path"

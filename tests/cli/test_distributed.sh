#!/usr/bin/env bash
# Data-parallel training (issue 12): 2 local ranks against one process (weights within 1e-5
# without dropout, accuracy within noise with it), torchrun's environment, ranks that disagree
# refused at start, a rank killed with -9 (the others stop naming it, nothing recorded, the run
# resumed with 1 or 2 ranks), --backend nccl refused. Every mlc here runs under `timeout`.
source "$(dirname "$0")/lib.sh"

# config FILE DROPOUT EPOCHS TRAIN_LIMIT: an MLP on a Fashion-MNIST slice, one thread per rank.
config() {
  cat > "$1" <<JSON
{
  "data": {
    "format": "idx",
    $(fmnist_files_json),
    "train_limit": $4, "test_limit": 200
  },
  "model": {"architecture": "mlp", "hidden_layers": [128, 64], "dropout": $2},
  "training": {"epochs": $3, "batch_size": 64, "seed": 5, "threads": 1,
               "optimizer": {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9}}
}
JSON
}

# checkpoint_of NAME:V: the version's checkpoint file in the store.
checkpoint_of() {
  local sha
  sha=$(mlc --json show "$1" | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)['artifacts']['checkpoint_sha256'])")
  find "$MLC_HOME/artifacts" -name "$sha*" -type f
}

# largest_difference A B: the largest absolute difference between two checkpoints' tensors.
largest_difference() {
  "$PYTHON" - "$1" "$2" <<'PY'
import sys, torch
a, b = (torch.jit.load(p) for p in sys.argv[1:3])
ta = {**dict(a.named_parameters()), **dict(a.named_buffers())}
tb = {**dict(b.named_parameters()), **dict(b.named_buffers())}
assert ta.keys() == tb.keys()
print(max(float((ta[k].double() - tb[k].double()).abs().max()) for k in ta if ta[k].numel()))
PY
}

versions_of() { mlc --json list | "$PYTHON" -c "import json,sys; print(sum(1 for v in json.load(sys.stdin)['versions'] if v['model'] == sys.argv[1]))" "$1"; }

# --- equal to one process -------------------------------------------------------------------
# One epoch of 1,809 samples (29 steps: 28 of 64, then 17, split 9 + 8 between the ranks, so that
# a rank's loss must be weighted by its share), gradients clipped to a norm they exceed (the
# clipping must see the summed gradient). The issue measured the two staying within 1e-7 for ~85
# steps before reduction order shows (up to 1e-3 later), so one short epoch is where 1e-5 is a
# meaningful bound.
config plain.json 0 1 2010
"$PYTHON" - plain.json <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))
config["training"]["gradient_clip_norm"] = 0.5
json.dump(config, open(sys.argv[1], "w"))
PY
run_mlc 0 --json train plain.json --name single
[ "$(json_field "$OUT" "d['train_samples'] % 64")" = 17 ] \
  || fail "the slice must leave a last batch of 17: $(json_field "$OUT" "d['train_samples']")"
run_mlc 0 --json train plain.json --name pair --nproc 2
validate train
json_field "$OUT" "d['distributed']['world_size'], d['distributed']['backend'], len(d['distributed']['hosts'])" \
  | grep -qx "2 gloo 2" || fail "train --json must report the ranks: $OUT"
difference=$(largest_difference "$(checkpoint_of single:1)" "$(checkpoint_of pair:1)")
"$PYTHON" -c "import sys; sys.exit(0 if float(sys.argv[1]) <= 1e-5 else 1)" "$difference" \
  || fail "2 ranks must end with one process's weights within 1e-5, differ by $difference"
run_mlc 0 --json show pair:1
json_field "$OUT" "d['lineage']['distributed']['world_size'], d['lineage']['distributed']['backend']" \
  | grep -qx "2 gloo" || fail "the lineage must name the world size and backend: $OUT"
[ "$(versions_of pair)" = 1 ] || fail "2 ranks must record one version"
[ -z "$(ls -A "$MLC_HOME/runs")" ] || fail "a finished run must remove its directory"
ok "2 ranks end within $difference of one process's weights; one version with world_size 2 in its lineage"

# --- with dropout: the same accuracy, within noise --------------------------------------------
config dropout.json 0.3 2 2000
run_mlc 0 --json train dropout.json --name drop1
one=$(json_field "$OUT" "d['metrics']['validation_accuracy'], d['validation_samples']")
run_mlc 0 --json train dropout.json --name drop2 --nproc 2
two=$(json_field "$OUT" "d['metrics']['validation_accuracy']")
# Three standard errors of the difference of two accuracies on the same validation samples.
"$PYTHON" -c "
import math, sys
a, n = map(float, sys.argv[1].split()); b = float(sys.argv[2])
bound = 3 * math.sqrt(2 * a * (1 - a) / n)
sys.exit(0 if abs(a - b) <= bound else 1)" "$one" "$two" \
  || fail "with dropout, 2 ranks' accuracy $two must be within noise of one process's ($one)"
ok "with dropout: accuracy $two on 2 ranks, ${one% *} in one process"

# --- torchrun's environment; ranks that disagree ----------------------------------------------
port=$("$PYTHON" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
rank() {  # rank R ARGS...: one rank as torchrun would start it, output in rank-R.out/.err
  local r=$1; shift
  RANK=$r WORLD_SIZE=2 LOCAL_RANK=$r MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
    timeout 60 "$MLC_BIN" "$@" > "rank-$r.out" 2> "rank-$r.err"
}
rank 0 train plain.json --name torchrun & first=$!
rank 1 train plain.json --name torchrun & second=$!
wait $first && wait $second || fail "ranks started as torchrun does must succeed: $(cat rank-*.err)"
grep -q "torchrun:1 trained: .* on 2 ranks" rank-0.out || fail "rank 0 prints the version: $(cat rank-0.out)"
[ ! -s rank-1.out ] || fail "rank 1 prints nothing: $(cat rank-1.out)"
ok "RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT (torchrun) start the ranks"

port=$((port + 1))
rank 0 train plain.json --name differ & first=$!
rank 1 train plain.json --name differ --epochs 2 & second=$!
status0=0; status1=0
wait $first || status0=$?; wait $second || status1=$?
message="rank 1's config differs from rank 0's at training.epochs: 2 on rank 1, 1 on rank 0"
for r in 0 1; do
  [ "$(cat rank-$r.err)" = "mlc: error: $message" ] || fail "rank $r must refuse naming the difference: $(cat rank-$r.err)"
done
[ "$status0" = 5 ] && [ "$status1" = 5 ] || fail "both ranks must exit 5, got $status0 and $status1"
[ "$(versions_of differ)" = 0 ] || fail "refused ranks record nothing"
ok "a rank whose config differs from rank 0's is refused by every rank, naming the key"

# Other data under the same path, as on a host whose copy differs: rank 1 sees another file
# through a bind mount in its own mount namespace (skipped where unshare is not allowed).
cp "$MLC_TEST_DATA_DIR/wine.csv" wine.csv
sed '2s/^14.23,/14.24,/' wine.csv > other-wine.csv
wine_config "$WORK/wine.csv" > /dev/null
if timeout 5 unshare -m true 2> /dev/null; then
  port=$((port + 1))
  rank 0 train wine.json --name otherdata & first=$!
  RANK=1 WORLD_SIZE=2 LOCAL_RANK=1 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port timeout 60 \
    unshare -m sh -c 'mount --bind other-wine.csv wine.csv && exec "$0" "$@"' \
    "$MLC_BIN" train wine.json --name otherdata > rank-1.out 2> rank-1.err & second=$!
  status0=0; status1=0
  wait $first || status0=$?; wait $second || status1=$?
  theirs=$(sha256sum other-wine.csv | cut -d' ' -f1); ours=$(sha256sum wine.csv | cut -d' ' -f1)
  message="rank 1's data differs from rank 0's: $WORK/wine.csv has sha256 $theirs on rank 1, $ours on rank 0"
  for r in 0 1; do
    [ "$(cat rank-$r.err)" = "mlc: error: $message" ] || fail "rank $r must refuse naming the file: $(cat rank-$r.err)"
  done
  [ "$status0" = 5 ] && [ "$status1" = 5 ] || fail "both ranks must exit 5, got $status0 and $status1"
  ok "a rank whose data differs from rank 0's (same path, other sha256) is refused by every rank"
else
  echo "skip - no mount namespace here (unshare -m): the data difference is unit-tested only"
fi
# A different mlc version is refused by the same comparison: tests/unit/compute/test_distributed.cpp.

expect_error 2 "--backend nccl: this build has only gloo" train plain.json --name nccl --nproc 2 --backend nccl

# --- a rank killed with -9 ---------------------------------------------------------------------
# Three epochs of ~1 s each on one thread, long enough to kill a rank in the second.
config slow.json 0 3 12000
# kill_rank NAME RANK ARGS...: starts `mlc train slow.json --name NAME --nproc 2`, kills rank RANK
# with -9 once the first epoch's state is saved; the launcher's exit status in $status, its
# stderr in $ERR and the seconds it took after the kill in $took.
kill_rank() {
  local name=$1 victim=$2; shift 2
  timeout 300 "$MLC_BIN" train "$@" --nproc 2 > launcher.out 2> launcher.err & local launcher=$!
  # Up to 120 s for the first epoch: the sanitizer build trains several times slower.
  for _ in $(seq 1 2400); do
    compgen -G "$MLC_HOME/runs/$name-*/state.pt" > /dev/null && break
    sleep 0.05
  done
  local pid target=""
  for pid in $(pgrep -P "$(pgrep -P $launcher)" 2>/dev/null; pgrep -P $launcher); do
    tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx "RANK=$victim" && target=$pid
  done
  [ -n "$target" ] || fail "no rank $victim found under launcher $launcher"
  local killed_at=$SECONDS
  kill -9 "$target"
  status=0; wait $launcher || status=$?
  took=$((SECONDS - killed_at)); ERR=$(cat launcher.err)
}

kill_rank killed 1 slow.json --name killed
[ "$status" != 0 ] && [ "$status" != 124 ] || fail "the launcher must fail (not time out) when a rank dies: $status"
# Detection is immediate (the dead rank's sockets close); the bound leaves room for the sanitizer
# build's leak check at exit.
[ "$took" -le 15 ] || fail "the ranks must stop within seconds of the kill, took $took s"
grep -q "^mlc: error: lost rank 1 of the 2 (.*); run killed-.* keeps its state after epoch [12]; continue with: mlc train --resume killed-" <<< "$ERR" \
  || fail "rank 0 must name the lost rank and the run to resume: $ERR"
[ "$(versions_of killed)" = 0 ] || fail "a run that lost a rank records nothing"
compgen -G "$MLC_HOME/runs/killed-*/state.pt" > /dev/null || fail "the run's last state must be kept"
run_mlc 0 --json train --resume killed
json_field "$OUT" "d['resumed'], len(d['metrics']['epochs']), 'distributed' in d" | grep -qx "True 3 False" \
  || fail "a run that lost a rank resumes in one process: $OUT"
ok "kill -9 of rank 1: rank 0 stops in $took s naming it, nothing recorded; resumed in one process"

kill_rank killed0 0 slow.json --name killed0
[ "$status" != 0 ] && [ "$status" != 124 ] || fail "the launcher must fail when rank 0 dies: $status"
[ "$took" -le 15 ] || fail "rank 1 must stop within seconds of rank 0's kill, took $took s"
grep -q "^mlc: error: lost rank 0 of the 2 " <<< "$ERR" || fail "rank 1 must name rank 0: $ERR"
[ "$(versions_of killed0)" = 0 ] || fail "a run that lost rank 0 records nothing"
run_mlc 0 --json train --resume killed0 --nproc 2
json_field "$OUT" "d['resumed'], len(d['metrics']['epochs']), d['distributed']['world_size']" | grep -qx "True 3 2" \
  || fail "a run that lost rank 0 resumes on 2 ranks: $OUT"
ok "kill -9 of rank 0: rank 1 stops in $took s naming it; resumed on 2 ranks"

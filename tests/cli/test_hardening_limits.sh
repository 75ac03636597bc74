#!/usr/bin/env bash
# Issue 13, items 9, 10, 12 and 13: no signal deaths (full disk, huge gate, a broken compute
# library), bounded threads, data and batches, data that cannot make a model, a FIFO and SIGTERM,
# a first epoch killed before its state. Every resource test runs under timeout and ulimit -v.
source "$(dirname "$0")/lib.sh"

# capped SECONDS CMD...: a hard cap on time and memory (4 GiB of address space: libtorch's own
# mappings fit, a 3 GB batch buffer does not).
capped() { local seconds=$1; shift; ( ulimit -v 4194304; timeout -s KILL "$seconds" "$@" ); }

# One stderr line, "mlc: error: ..." containing MESSAGE, for a command run by capped.
expect_capped_error() {
  local expected=$1 message=$2 seconds=$3; shift 3
  local status=0
  capped "$seconds" "$MLC_BIN" "$@" > "$WORK/stdout" 2> "$WORK/stderr" || status=$?
  ERR=$(cat "$WORK/stderr")
  [ "$status" -eq "$expected" ] || fail "mlc $*: exit $status, expected $expected; stderr: $ERR"
  [ "$(wc -l < "$WORK/stderr")" -eq 1 ] || fail "mlc $*: expected one stderr line, got: $ERR"
  case "$ERR" in "mlc: error: "*"$message"*) ;; *) fail "mlc $*: '$ERR' lacks '$message'" ;; esac
}

no_runs_left() {
  [ -z "$(ls -A "$MLC_HOME/runs" 2>/dev/null)" ] || fail "$1 left a run: $(ls "$MLC_HOME/runs")"
}

run_mlc 0 -q train "$(wine_config)" --name wine --epochs 3
before=$(catalogue_fingerprint)
unchanged() { [ "$(catalogue_fingerprint)" = "$before" ] || fail "$1 changed the catalogue or the store"; }

# ---- Item 9: a 30,000-character gate or metric name.
long=$(printf 'a%.0s' $(seq 30000))
expect_error 2 "unknown metric '$long'" eval wine --gate "$long>=0.5"
expect_error 2 "expected METRIC OP NUMBER" eval wine --gate "accuracy>=$long"
expect_error 2 "'1e999' is not a number" eval wine --gate "accuracy>=1e999"
unchanged "a bad gate"; ok "a 30,000-character gate is one error line (exit 2), not SIGSEGV"

# ---- Item 9: a compute library whose entry point returns NULL, or that has none.
if command -v cc > /dev/null; then
  printf 'void *mlc_compute_backend(void) { return 0; }\n' > null_entry.c
  printf 'int unrelated(void) { return 0; }\n' > no_entry.c
  cc -shared -fPIC -o null_entry.so null_entry.c && cc -shared -fPIC -o no_entry.so no_entry.c
  MLC_COMPUTE_LIB="$WORK/null_entry.so" expect_error 1 \
    "the compute library $WORK/null_entry.so returned no backend" eval wine
  MLC_COMPUTE_LIB="$WORK/no_entry.so" expect_error 1 \
    "$WORK/no_entry.so has no mlc_compute_backend entry point" eval wine
  unchanged "a broken compute library"; ok "a compute library returning no backend: exit 1, named"
else
  echo "skipped: no C compiler for the broken compute library"
fi

# ---- Item 10: threads, at most 4x the cores.
cores=$(nproc)
limit=$((4 * cores))
expect_capped_error 5 "--threads: 100000 threads is more than the limit of $limit (4x the $cores cores" \
  60 train "$(wine_config)" --name t --threads 100000
expect_capped_error 5 "training.threads: 100000 threads is more than the limit of $limit" \
  60 train "$(wine_config)" --name t --set training.threads=100000
run_mlc 0 -q train "$(wine_config)" --name t --epochs 1 --threads "$limit"
no_runs_left "a refused thread count"; ok "threads above 4x the cores are refused (exit 5) naming the limit"

# ---- Item 10: data files past MLC_MAX_DATA_BYTES, /dev/zero, gzip bombs.
before=$(catalogue_fingerprint)
MLC_MAX_DATA_BYTES=1000 expect_capped_error 5 \
  "$MLC_TEST_DATA_DIR/wine.csv: more than 1000 bytes of data, the limit (set MLC_MAX_DATA_BYTES to raise it)" \
  60 train "$(wine_config)" --name big
MLC_MAX_DATA_BYTES=1000000 expect_capped_error 5 "/dev/zero: more than 1000000 bytes of data" \
  60 train "$(wine_config /dev/zero)" --name zero
expect_capped_error 5 "/dev/zero: more than 1073741824 bytes of data" \
  120 train "$(wine_config /dev/zero)" --name zero
MLC_MAX_DATA_BYTES=lots expect_capped_error 5 "MLC_MAX_DATA_BYTES='lots': expected a whole number" \
  60 train "$(wine_config)" --name big
# IDX: 3900 images of 1000x1000 declared in the header: refused before reading on.
# A small header followed by 64 MiB of zeros: refused after 64 KiB of them.
"$PYTHON" - "$WORK" <<'PY'
import gzip, struct, sys
work = sys.argv[1]
def idx(dims, data=b""):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + data
# The issue's example: 3.9 GB of images in a 3.8 MB file (gzip members of 1 MiB of zeros, repeated).
zeros = gzip.compress(bytes(1 << 20))
with open(f"{work}/declared-bomb.gz", "wb") as f:
    f.write(gzip.compress(idx([3900, 1000, 1000])))
    for _ in range(3900): f.write(zeros)
with gzip.open(f"{work}/trailing-bomb.gz", "wb") as f:
    f.write(idx([10, 2, 2], bytes(40)))
    for _ in range(64): f.write(bytes(1 << 20))
with gzip.open(f"{work}/labels10.gz", "wb") as f: f.write(idx([10], bytes(range(10))))
PY
idx_config() {  # idx_config TRAIN_IMAGES TRAIN_LABELS TEST_IMAGES TEST_LABELS
  cat > "$WORK/idx.json" <<JSON
{"data": {"format": "idx", "train_images": "$1", "train_labels": "$2",
          "test_images": "$3", "test_labels": "$4"},
 "model": {"architecture": "mlp", "hidden_layers": [8]},
 "training": {"epochs": 1, "batch_size": 4, "seed": 1, "threads": 1,
              "optimizer": {"name": "adam", "learning_rate": 0.01}}}
JSON
  echo "$WORK/idx.json"
}
expect_capped_error 5 "$WORK/declared-bomb.gz: more than 1073741824 bytes of data" 60 \
  train "$(idx_config "$WORK/declared-bomb.gz" "$WORK/labels10.gz" "$WORK/declared-bomb.gz" "$WORK/labels10.gz")" --name bomb
expect_capped_error 5 "$WORK/trailing-bomb.gz: expected 40 bytes of data after the header, found more than 65576" 60 \
  train "$(idx_config "$WORK/trailing-bomb.gz" "$WORK/labels10.gz" "$WORK/trailing-bomb.gz" "$WORK/labels10.gz")" --name bomb
unchanged "data past the limit"; no_runs_left "data past the limit"
ok "CSV, /dev/zero and gzip bombs stop at MLC_MAX_DATA_BYTES (exit 5, the limit named)"

# ---- Item 10: a batch of a million on a small split is the whole split (a 3 GB buffer before).
if [ -f "$MLC_FASHION_MNIST_DIR/train-images-idx3-ubyte.gz" ]; then
  status=0
  capped 300 "$MLC_BIN" -q train "$(tiny_fmnist_config)" --name batch --epochs 1 --batch-size 1000000 \
    > "$WORK/stdout" 2> "$WORK/stderr" || status=$?
  [ "$status" -eq 0 ] || fail "a batch of a million under ulimit -v: exit $status: $(cat "$WORK/stderr")"
  ok "--batch-size 1000000 on 1800 samples trains within 4 GiB of address space"
else
  echo "skipped: no Fashion-MNIST for the batch test"
fi

# ---- Item 12: data that cannot make a model, refused before training.
before=$(catalogue_fingerprint)
head -41 "$MLC_TEST_DATA_DIR/wine.csv" > one-class.csv
expect_error 5 "one-class.csv: the training split has only one class ('0'); a classifier needs at least two" \
  train "$(wine_config "$WORK/one-class.csv")" --name degenerate
head -2 "$MLC_TEST_DATA_DIR/wine.csv" > one-row.csv
expect_error 5 "one-row.csv: the test split is empty (data.test_fraction 0.2 of 1 row leaves none); a version trained without one could never be evaluated" \
  train "$(wine_config "$WORK/one-row.csv")" --name degenerate
"$PYTHON" - "$WORK" <<'PY'
import struct, sys
work = sys.argv[1]
def idx(dims, data=b""):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + data
open(f"{work}/train-images", "wb").write(idx([20, 2, 2], bytes(i % 256 for i in range(80))))
open(f"{work}/train-labels", "wb").write(idx([20], bytes(i % 2 for i in range(20))))
open(f"{work}/no-test-images", "wb").write(idx([0, 2, 2]))
open(f"{work}/no-test-labels", "wb").write(idx([0]))
PY
expect_error 5 "no-test-images: the test split is empty (no test images)" \
  train "$(idx_config "$WORK/train-images" "$WORK/train-labels" "$WORK/no-test-images" "$WORK/no-test-labels")" --name degenerate
{ head -5 "$MLC_TEST_DATA_DIR/wine.csv"; echo "inf,1.71,2.43,15.6,127,2.8,3.06,0.28,2.29,5.64,1.04,3.92,1065,0"; } > inf.csv
expect_error 5 "inf.csv:6: column 'alcohol': 'inf' is not a finite number that fits a 32-bit float" \
  train "$(wine_config "$WORK/inf.csv")" --name degenerate
unchanged "degenerate data"; no_runs_left "degenerate data"
ok "one class, no test split and non-finite features are refused before training (exit 5)"

# ---- Item 12: a metric that is not finite is refused, never recorded as null.
"$PYTHON" - "$WORK" <<'PY'
import sys
work = sys.argv[1]
header = ",".join(f"f{c}" for c in range(12)) + ",class\n"
small = header + "".join(",".join(str((r * 7 + c * 3) % 10 / 10) for c in range(12)) + f",{r % 2}\n" for r in range(60))
huge = header + "".join("3.4e38," * 12 + f"{r % 2}\n" for r in range(20))
open(f"{work}/small.csv", "w").write(small)
open(f"{work}/huge.csv", "w").write(huge)
PY
sed -e 's/"test_fraction": 0.2/"test_fraction": 0.2, "scaling": "none"/' -e 's/\[16\]/[256]/' \
  "$(wine_config "$WORK/small.csv")" > unscaled.json
run_mlc 0 -q train unscaled.json --name unscaled --epochs 2
before=$(catalogue_fingerprint)
expect_error 5 "huge.csv: the model's loss on the test split (" --json eval unscaled --data "$WORK/huge.csv"
expect_error 5 "huge.csv: the model's output for test sample 0 is not finite" --json predict unscaled --data "$WORK/huge.csv"
unchanged "a non-finite evaluation"
run_mlc 0 --json eval unscaled
validate eval
ok "a non-finite metric or output is refused (exit 5); --json eval stays valid"

# ---- Item 13: non-UTF-8 bytes in a CSV.
{ head -3 "$MLC_TEST_DATA_DIR/wine.csv"; printf '13.2,1.78,2.14,11.2,100,2.65,2.76,0.26,1.28,4.38,1.05,3.4,1050,K\xf6ln\n'; } > latin1.csv
expect_error 5 "latin1.csv:4: not valid UTF-8 (byte 0xF6 at offset 64)" \
  train "$(wine_config "$WORK/latin1.csv")" --name latin1
no_runs_left "a Latin-1 CSV"; ok "non-UTF-8 bytes in a CSV: file and line (exit 5)"

# ---- Item 13: SIGTERM while train is blocked opening a FIFO as its config or data: exit 130.
# wait_blocked PID: until the process sleeps in the FIFO's open (wchan wait_for_partner).
wait_blocked() {
  for _ in $(seq 200); do
    [ "$(cat "/proc/$1/wchan" 2>/dev/null)" = wait_for_partner ] && return 0
    sleep 0.05
  done
  return 1
}
term_while_blocked() {  # term_while_blocked ARGS...: mlc must exit 130 after SIGTERM
  local status=0
  "$MLC_BIN" "$@" > "$WORK/stdout" 2> "$WORK/stderr" &
  local pid=$!
  wait_blocked "$pid" || { kill -KILL "$pid"; fail "mlc $* did not block on its FIFO"; }
  kill -TERM "$pid"
  for _ in $(seq 400); do kill -0 "$pid" 2> /dev/null || break; sleep 0.05; done
  if kill -0 "$pid" 2> /dev/null; then kill -KILL "$pid"; fail "mlc $* ignored SIGTERM on a FIFO"; fi
  wait "$pid" || status=$?
  ERR=$(cat "$WORK/stderr")
  [ "$status" -eq 130 ] || fail "SIGTERM while blocked on a FIFO: exit $status, expected 130; $ERR"
}
mkfifo config.fifo data.fifo
term_while_blocked train "$WORK/config.fifo" --name fifo
term_while_blocked train "$(wine_config "$WORK/data.fifo")" --name fifo
case "$ERR" in *"mlc: error: stopped by a signal: cannot open $WORK/data.fifo: Interrupted system call"*) ;;
  *) fail "SIGTERM on a data FIFO: $ERR" ;; esac
no_runs_left "SIGTERM on a FIFO"; ok "SIGTERM while blocked opening a FIFO exits 130"

# ---- Item 13: a run killed before its first state.pt is resumed from the start.
MLC_HOME="$WORK/kill-home"
sed 's/"epochs": 30/"epochs": 100000/' "$(wine_config)" > forever.json
"$MLC_BIN" -q train forever.json --name killed & pid=$!
for _ in $(seq 400); do
  ls "$MLC_HOME"/runs/*/run.json > /dev/null 2>&1 && break
  sleep 0.02
done
kill -KILL "$pid"; { wait "$pid"; } 2> /dev/null || true
rm -f "$MLC_HOME"/runs/*/state.pt  # in case the kill came after the first epoch after all
run_dir=$(ls -d "$MLC_HOME"/runs/*)
sed -i 's/"epochs": 100000/"epochs": 2/' "$run_dir/run.json"
mkdir "$MLC_HOME/runs/other-run" && echo '{"id": "other' > "$MLC_HOME/runs/other-run/run.json"
run_mlc 0 --json train --resume killed
[ "$(json_field "$OUT" "d['version'], d['resumed'], len(d['metrics']['epochs'])")" = "1 True 2" ] \
  || fail "resume of a run without state: $OUT"
[ "$(ls "$MLC_HOME/runs")" = other-run ] || fail "the resumed run was not removed: $(ls "$MLC_HOME/runs")"
expect_error 5 "other-run/run.json: not a run record" train --resume other-run
ok "train --resume of a run killed before its first state starts it afresh (another run's damaged record in the way)"
MLC_HOME="$WORK/home"

# ---- Item 9: a full disk during train and export: exit 8, one line, no *.tmp left.
small="$WORK/small-disk"
mkdir -p "$small"
if mount -t tmpfs -o size=512k tmpfs "$small" 2> /dev/null; then
  trap 'status=$?; umount "$small" 2> /dev/null; (exit $status); on_exit' EXIT
  # 512 KiB: the run directory fits, the 700 KiB state.pt of a 784-64-32-10 MLP does not.
  MLC_HOME="$small/home" expect_capped_error 8 "cannot write $small/home/runs/" 300 \
    train "$(tiny_fmnist_config)" --name full --epochs 1
  case "$ERR" in *"/state.pt: No space left on device"|*"/best.pt: No space left on device") ;;
    *) fail "a full disk in train: $ERR" ;; esac
  [ -z "$(find "$small" -name '*.tmp*')" ] || fail "a full disk left: $(find "$small" -name '*.tmp*')"
  [ -z "$(ls -A "$small/home/runs" 2>/dev/null)" ] || fail "a full disk left a run"
  ok "a full disk in train: exit 8 naming state.pt and ENOSPC, nothing left behind"
  umount "$small"

  # 2 MiB holds an evaluated 13-1024-3 MLP; then a filler leaves 40 KiB, less than its 70 KiB
  # TorchScript, and more than the catalogue needs to be read.
  mount -t tmpfs -o size=2m tmpfs "$small"
  MLC_HOME="$small/home" run_mlc 0 -q train "$(wine_config)" --name full --epochs 1 --set 'model.hidden_layers=[1024]'
  MLC_HOME="$small/home" run_mlc 0 -q eval full:1
  free_kb=$(df -k --output=avail "$small" | tail -1)
  dd if=/dev/zero of="$small/filler" bs=1k count=$((free_kb - 40)) 2> /dev/null || true
  home_before=$(MLC_HOME="$small/home" catalogue_fingerprint)
  MLC_HOME="$small/home" expect_capped_error 8 "cannot write $small/home/tmp/export-" 120 \
    export full:1 --out "$WORK/exports/full.pt"
  case "$ERR" in *"/model.pt: No space left on device") ;; *) fail "a full disk in export: $ERR" ;; esac
  [ -z "$(find "$small" -name '*.tmp*' -o -name 'export-*')" ] || fail "a full disk in export left files"
  [ "$(MLC_HOME="$small/home" catalogue_fingerprint)" = "$home_before" ] || fail "a full disk in export changed the catalogue"
  [ ! -e "$WORK/exports/full.pt" ] || fail "a full disk in export wrote --out"
  ok "a full disk in export: exit 8 naming model.pt and ENOSPC, nothing left behind"
  umount "$small"
  trap on_exit EXIT
else
  echo "skipped: the full-disk tests need to mount a tmpfs (root)"
fi

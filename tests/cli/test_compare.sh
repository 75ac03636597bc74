#!/usr/bin/env bash
# mlc compare A B (issue 10 item 3): both versions measured on the same samples (their own test
# split, or --data), every metric side by side, and a paired test on the per-sample outcomes,
# checked against scipy on `mlc predict` (tests/python/check_compare.py). Recorded evaluations are
# reused, without loading libtorch; different test splits are refused. About 20 s.
source "$(dirname "$0")/lib.sh"
"$PYTHON" -c "import scipy.stats" 2> /dev/null || { echo "python3-scipy is missing (scripts/install-deps.sh)"; exit 1; }
check_compare() {  # A B [--data FILE]: the last compare (compare.json) against scipy on predict
  local a=$1 b=$2; shift 2
  mlc --json predict "$a" --limit 0 "$@" > predict-a.json
  mlc --json predict "$b" --limit 0 "$@" > predict-b.json
  timeout 120 "$PYTHON" "$MLC_SOURCE_DIR/tests/python/check_compare.py" compare.json predict-a.json predict-b.json \
    || fail "compare $a $b differs from scipy's computation"
}
evaluations_of() {  # NAME VERSION
  "$PYTHON" -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(
    'SELECT count(*) FROM evaluations e JOIN versions v ON v.id = e.version_id JOIN models m ON m.id = v.model_id '
    'WHERE m.name = ? AND v.version = ?', (sys.argv[2], int(sys.argv[3]))).fetchone()[0])" "$MLC_HOME/catalog.db" "$1" "$2"
}

# --- two classifiers trained with different seeds: the same test rows -------------------------
mlc -q train "$(tiny_fmnist_config)" --name fm > /dev/null
mlc -q train "$(tiny_fmnist_config)" --name fm --set training.seed=8 --set training.epochs=3 > /dev/null
run_mlc 0 --json compare fm:1 fm:2; validate compare; printf '%s' "$OUT" > compare.json
json_field "$OUT" "d['a']['evaluation']['evaluated_now'], d['b']['evaluation']['evaluated_now'], d['data']['samples'], d['data']['on_test_split'], d['test']['name'], d['same_training_data']" \
  | grep -qx "True True 500 True mcnemar_exact True" || fail "compare: $OUT"
check_compare fm:1 fm:2
[ "$(evaluations_of fm 1) $(evaluations_of fm 2)" = "1 1" ] || fail "compare records the evaluations it made"
run_mlc 0 --json history fm:2; validate history
[ "$(json_field "$OUT" "[h['event'] for h in d['history']]")" = "['transition', 'evaluation']" ] || fail "history: $OUT"
ok "two classifiers on their shared test split: metrics side by side, McNemar's counts and exact p agree with scipy"

run_mlc 0 compare fm:1 fm:2
for line in "fm:1 vs fm:2 on their test split: 500 samples (data fingerprint " "  fm:1: its evaluation of 20" \
            "  accuracy " "  recall[Shirt] " "McNemar's exact test: " "  why this test: "; do
  grep -qF -- "$line" <<< "$OUT" || fail "compare has no '$line': $OUT"
done
MLC_COMPUTE_LIB=/nonexistent run_mlc 0 --json compare fm fm:1; validate compare
json_field "$OUT" "d['a']['version'], d['a']['evaluation']['evaluated_now'], d['b']['evaluation']['evaluated_now']" \
  | grep -qx "2 False False" || fail "reuse: $OUT"
[ "$(evaluations_of fm 1) $(evaluations_of fm 2)" = "1 1" ] || fail "evaluated again"
ok "recorded evaluations on the same data are reused: no libtorch (MLC_COMPUTE_LIB=/nonexistent), nothing recorded"

# IDX --data: the images and their labels, both by sha256
"$PYTHON" - "$MLC_FASHION_MNIST_DIR" <<'PY'   # the last 300 test items, as IDX files of their own
import gzip, struct, sys
for kind, item in (("images", 784), ("labels", 1)):
    data = gzip.open(f"{sys.argv[1]}/t10k-{kind}-idx{3 if item > 1 else 1}-ubyte.gz").read()
    header = 16 if item > 1 else 8
    body = data[header:][-300 * item:]
    head = bytearray(data[:header]); head[4:8] = struct.pack(">I", 300)
    open(f"last-{kind}.idx", "wb").write(bytes(head) + body)
PY
images="$WORK/last-images.idx" labels="$WORK/last-labels.idx"
run_mlc 0 --json compare fm:1 fm:2 --data "$images" --labels "$labels"; validate compare; printf '%s' "$OUT" > compare.json
[ "$(json_field "$OUT" "d['data']['samples'], d['data']['on_test_split'], d['a']['evaluation']['evaluated_now']")" = "300 False True" ] \
  || fail "IDX --data: $OUT"
check_compare fm:1 fm:2 --data "$images" --labels "$labels"
ok "IDX --data with --labels (300 items the models were not tested on): McNemar against scipy"

# --- CSV: the test split is the same rows whatever training.seed; --data; other data refused ----
mlc -q train "$(wine_config)" --name wine > /dev/null
mlc -q train "$(wine_config)" --name wine --set training.seed=11 --set training.epochs=2 > /dev/null
run_mlc 0 --json compare wine:1 wine:2; validate compare; printf '%s' "$OUT" > compare.json
[ "$(json_field "$OUT" "d['data']['samples']")" = 36 ] || fail "wine's test split: $OUT"
check_compare wine:1 wine:2
head -61 "$MLC_TEST_DATA_DIR/wine.csv" > part.csv
run_mlc 0 --json compare wine:1 wine:2 --data part.csv; validate compare; printf '%s' "$OUT" > compare.json
json_field "$OUT" "d['data']['samples'], d['data']['on_test_split'], d['a']['evaluation']['evaluated_now']" \
  | grep -qx "60 False True" || fail "--data: $OUT"
check_compare wine:1 wine:2 --data part.csv
run_mlc 0 --json compare wine:2 wine:1 --data "$WORK/./part.csv"
[ "$(json_field "$OUT" "d['a']['evaluation']['evaluated_now'], d['b']['evaluation']['evaluated_now']")" = "False False" ] \
  || fail "--data reuse: $OUT"
ok "two CSV classifiers trained with different seeds share their test rows (data.split_seed); --data compares on a named file, reused the second time"

{ head -1 "$MLC_TEST_DATA_DIR/wine.csv"; tail -n +2 "$MLC_TEST_DATA_DIR/wine.csv" | head -150; } > other.csv
mlc -q train "$(wine_config "$WORK/other.csv")" --name wine > /dev/null   # wine:3
expect_error 6 "wine:1 and wine:3 were tested on different samples (wine:1: 36 samples of path wine.csv, data fingerprint " \
  compare wine:1 wine:3
grep -qF "compare them on one data set with --data FILE" <<< "$ERR" || fail "$ERR"
run_mlc 0 compare wine:1 wine:3 --data part.csv
grep -qF "note: wine:1 and wine:3 were trained on different data" <<< "$OUT" || fail "no note on training data: $OUT"
ok "versions tested on different rows are refused (exit 6); on one --data file they compare, with a note that they were trained on different data"

# --- regression: a paired t-test on squared errors --------------------------------------------
mlc -q train "$(alcohol_config 20)" --name alcohol > /dev/null
mlc -q train "$WORK/alcohol.json" --name alcohol --set training.seed=5 > /dev/null
run_mlc 0 --json compare alcohol:1 alcohol:2; validate compare; printf '%s' "$OUT" > compare.json
[ "$(json_field "$OUT" "d['test']['name'], 'rmse' in [m['name'] for m in d['metrics']]")" = "paired_t True" ] || fail "$OUT"
check_compare alcohol:1 alcohol:2
fresh=$(json_field "$OUT" "d['test']['statistic'], d['test']['p_value']")
run_mlc 0 --json compare alcohol:1 alcohol:2; validate compare
[ "$(json_field "$OUT" "d['test']['statistic'], d['test']['p_value'], d['a']['evaluation']['evaluated_now']")" = "$fresh False" ] \
  || fail "a reused regression comparison differs from the fresh one ($fresh): $OUT"
head -2 "$MLC_TEST_DATA_DIR/wine.csv" > one.csv
run_mlc 0 --json compare alcohol:1 alcohol:2 --data one.csv; validate compare
[ "$(json_field "$OUT" "d['test']['p_value'], d['test']['statistic'], d['test']['significant']")" = "1.0 None False" ] \
  || fail "one sample: $OUT"
ok "two regression models: a paired t-test on squared errors that agrees with scipy.stats.ttest_rel"

# --- refusals ------------------------------------------------------------------------------------
before=$(catalogue_fingerprint)
expect_error 2 "fm:2 and fm are the same version; compare needs two" compare fm:2 fm
expect_error 4 "model 'fm' has no version 9" compare fm:1 fm:9
expect_error 6 "wine:1 is a classification model and alcohol:1 a regression model" compare wine:1 alcohol:1
"$PYTHON" "$MLC_SOURCE_DIR/tests/cli/make_torchscript.py" a.pt --features 13 --classes 3
mlc -q register --artifact a.pt --name wine > /dev/null   # wine:4
expect_error 6 "wine:4 has no evaluation with per-sample outcomes on this data, and cannot be evaluated" compare wine:1 wine:4
expect_error 2 "--labels needs --data" compare wine:1 wine:2 --labels x
mlc -q train "$(wine_config)" --name wine > /dev/null   # wine:5, never evaluated
mlc -q retire wine:5 > /dev/null
expect_error 6 "cannot evaluate wine:5: it is retired" compare wine:1 wine:5
expect_error 4 "$WORK/nope.csv: no such file" compare wine:1 wine:2 --data "$WORK/nope.csv"
expect_error 2 "IDX data needs --labels FILE beside --data FILE" compare fm:1 fm:2 --data "$MLC_FASHION_MNIST_DIR/t10k-images-idx3-ubyte.gz"
ok "refused: the same version twice (exit 2), an unknown one (4), other tasks or classes, an artifact or retired version without an evaluation (6)"

#!/usr/bin/env bash
# mlc train on a CSV table, and every kind of bad input it must refuse with one clear line,
# a non-zero exit and no change to the catalogue or the store.
source "$(dirname "$0")/lib.sh"

run_mlc 0 --json train "$(wine_config)" --name wine
validate train
json_field "$OUT" "d['metrics']['validation_accuracy'] >= 0.8" | grep -qx True || fail "wine should train: $OUT"
run_mlc 0 --json eval wine
json_field "$OUT" "d['samples'], d['metrics']['accuracy'] >= 0.8" | grep -qx "36 True" || fail "wine eval on 20% held out: $OUT"
ok "an MLP trains on the wine CSV and evaluates on its held-out rows"

run_mlc 0 --json train "$(wine_config)" --name wine --epochs 2 --batch-size 8 --seed 5 --set training.optimizer.learning_rate=0.02
run_mlc 0 --json show wine:2
json_field "$OUT" "d['config']['training']['epochs'], d['config']['training']['batch_size'], d['config']['training']['seed'], d['config']['training']['optimizer']['learning_rate']" \
  | grep -qx "2 8 5 0.02" || fail "flags and --set must land in the recorded config: $OUT"
ok "--epochs, --batch-size, --seed and --set override the config and are recorded"

gunzip -c "$MLC_FASHION_MNIST_DIR/t10k-images-idx3-ubyte.gz" > images.idx
gunzip -c "$MLC_FASHION_MNIST_DIR/t10k-labels-idx1-ubyte.gz" > labels.idx
sed -e "s|$MLC_FASHION_MNIST_DIR/train-images-idx3-ubyte.gz|$WORK/images.idx|" \
    -e "s|$MLC_FASHION_MNIST_DIR/train-labels-idx1-ubyte.gz|$WORK/labels.idx|" "$(tiny_fmnist_config)" > plain.json
run_mlc 0 --json train plain.json --name plain --epochs 1
json_field "$OUT" "d['train_samples'], d['metrics']['validation_accuracy'] > 0.3" | grep -qx "1800 True" || fail "plain IDX: $OUT"
ok "IDX files that are not gzipped train too"

before=$(catalogue_fingerprint)
unchanged() { [ "$(catalogue_fingerprint)" = "$before" ] || fail "$1 changed the catalogue or the store"; }

printf 'a,b,class\n1,2,0\n3,4\n' > ragged.csv
expect_error 5 "ragged.csv:3: expected 3 fields, found 2" train "$(wine_config "$WORK/ragged.csv")" --name bad
unchanged "a ragged CSV"; ok "ragged CSV row: file and line"

printf 'a,b,class\n1,2,0\n3,x4,1\n' > text.csv
expect_error 5 "text.csv:3: column 'b': 'x4' is not a number" train "$(wine_config "$WORK/text.csv")" --name bad
unchanged "a non-numeric cell"; ok "non-numeric cell: file, line and column"

sed 's/"target": "class"/"target": "kind"/' "$(wine_config)" > unknown-target.json
expect_error 5 "no column named 'kind'" train unknown-target.json --name bad
unchanged "an unknown target"; ok "unknown target column"

expect_error 4 "$WORK/missing.csv" train "$(wine_config "$WORK/missing.csv")" --name bad
unchanged "missing data"; ok "missing data file named"

config=$(tiny_fmnist_config)
head -c 100000 "$MLC_FASHION_MNIST_DIR/train-images-idx3-ubyte.gz" > truncated.gz
sed "s|$MLC_FASHION_MNIST_DIR/train-images-idx3-ubyte.gz|$WORK/truncated.gz|" "$config" > truncated.json
run_mlc 5 train truncated.json --name bad
case "$ERR" in "mlc: error: $WORK/truncated.gz: "*) ;; *) fail "truncated gzip: $ERR" ;; esac
unchanged "a truncated gzip"; ok "truncated gzip: $ERR"

printf '\x00\x00\x09\x03\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00' > badmagic.idx
sed "s|$MLC_FASHION_MNIST_DIR/train-images-idx3-ubyte.gz|$WORK/badmagic.idx|" "$config" > badmagic.json
expect_error 5 "badmagic.idx: bad IDX magic number" train badmagic.json --name bad
unchanged "a bad magic number"; ok "IDX with a bad magic number"

printf '\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x1c\x00\x00\x00\x1c\x00\x01\x02' > short.idx
sed "s|$MLC_FASHION_MNIST_DIR/train-images-idx3-ubyte.gz|$WORK/short.idx|" "$config" > short.json
run_mlc 5 train short.json --name bad
case "$ERR" in "mlc: error: $WORK/short.idx: "*) ;; *) fail "wrong size: $ERR" ;; esac
unchanged "a short IDX file"; ok "IDX of the wrong size: $ERR"

sed 's/"epochs": 30/"epoch": 30/' "$(wine_config)" > typo.json
expect_error 5 "typo.json: training: unknown key 'epoch'" train typo.json --name bad
expect_error 5 "training.optimizer.learning_rate" train "$(wine_config)" --name bad --set training.optimizer.learning_rate=-1
printf '{"data": {\n  "format": "csv",,\n}}\n' > broken.json
expect_error 5 "broken.json:2:" train broken.json --name bad
unchanged "a config that fails its schema"; ok "config failing its schema names the key and why"

expect_error 5 "training diverged in epoch 1: the loss is not finite" -q train "$(wine_config)" --name bad \
  --set training.optimizer.name=sgd --set training.optimizer.learning_rate=1e12
unchanged "a diverged training run"; ok "a diverged run is refused, not recorded"

expect_error 5 "model name '../evil'" train "$(wine_config)" --name ../evil
expect_error 5 "model name 'a/b'" train "$(wine_config)" --name a/b
expect_error 5 "model name '..'" train "$(wine_config)" --name ..
expect_error 2 "--set 'nonsense': expected KEY=VALUE" train "$(wine_config)" --name ok --set nonsense
unchanged "a bad name"; ok "model names outside [A-Za-z0-9._-] are refused"

expect_error 2 "train needs a CONFIG and --name, or --resume RUN" train "$(wine_config)"
expect_error 2 "--resume continues a run with the config it started with" train "$(wine_config)" --resume wine
ok "usage errors exit 2"

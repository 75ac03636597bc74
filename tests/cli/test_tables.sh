#!/usr/bin/env bash
# CSV preprocessing and regression: missing cells imputed or rows dropped, scaling, one-hot
# categorical columns, a regression target; the steps travel with the model into eval, predict
# and the TorchScript export, which Python's torch.jit.load runs on raw rows with NaN and category
# codes, as mlc does.
source "$(dirname "$0")/lib.sh"

# table_config NAME TASK TARGET EXTRA: a config on the wine table with missing cells.
table_config() {
  cat > "$WORK/$1.json" <<JSON
{
  "data": {"format": "csv", "path": "$MLC_TEST_DATA_DIR/wine-missing.csv", "target": "$3",
           "task": "$2", $4},
  "model": {"architecture": "mlp", "hidden_layers": [32], "batch_norm": true},
  "training": {"epochs": 40, "batch_size": 16, "seed": 5, "threads": 1,
               "optimizer": {"name": "adamw", "learning_rate": 0.01}}
}
JSON
  echo "$WORK/$1.json"
}

# interop REF: export REF, predict every row of the table, and compare with Python.
interop() {
  local dir="$WORK/export-${1//:/-}"
  [ "$(mlc --json show "$1" | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)['state'])")" != trained ] \
    || mlc -q eval "$1" > /dev/null
  mlc -q export "$1" --out "$dir/model.pt" > /dev/null
  mlc --json show "$1" | "$PYTHON" -c "import json,sys; json.dump(json.load(sys.stdin)['model_info'], sys.stdout)" > "$dir/info.json"
  run_mlc 0 --json predict "$1" --data "$MLC_TEST_DATA_DIR/wine-missing.csv" --limit 1000
  validate predict
  printf '%s' "$OUT" > "$dir/predictions.json"
  "$PYTHON" "$MLC_SOURCE_DIR/tests/python/compare_table_model.py" "$dir/model.pt" \
    "$MLC_TEST_DATA_DIR/wine-missing.csv" "$dir/info.json" "$dir/predictions.json" > /dev/null \
    || fail "$1: Python's torch.jit.load disagrees with mlc on raw rows"
}

# Regression: alcohol from the other measurements, the cultivar one-hot encoded, min-max scaling,
# median imputation.
run_mlc 0 --json train "$(table_config alcohol regression alcohol '"categorical": ["class"], "scaling": "minmax", "impute": {"strategy": "median"}')" --name alcohol
validate train
json_field "$OUT" "'validation_rmse' in d['metrics'], 'validation_accuracy' in d['metrics']" | grep -qx "True False" \
  || fail "regression reports RMSE, not accuracy: $OUT"
run_mlc 0 --json show alcohol
json_field "$OUT" "[s['op'] for s in d['model_info']['preprocessing']['steps']], d['model_info']['task']" \
  | grep -qx "\['impute', 'minmax', 'one_hot'\] regression" || fail "the steps are recorded with the version: $OUT"
json_field "$OUT" "d['model_info']['preprocessing']['steps'][2]['columns']" | grep -q "'categories': \['0', '1', '2'\]" \
  || fail "categories fitted on the training split: $OUT"
run_mlc 0 --json eval alcohol --gate 'r2>=0.1' --gate 'rmse<=0.7'
validate eval
json_field "$OUT" "sorted(d['metrics']), d['passed']" \
  | grep -qx "\['loss', 'mae', 'r2', 'residual_p05', 'residual_p25', 'residual_p50', 'residual_p75', 'residual_p95', 'rmse'\] True" \
  || fail "regression eval: $OUT"
interop alcohol:1
ok "regression with median imputation, min-max scaling and a one-hot column; Python agrees on raw rows"

expect_error 2 "--gate 'accuracy>=0.5': this model does not report 'accuracy' (it reports loss, mae, r2, residual_p05, residual_p25, residual_p50, residual_p75, residual_p95, rmse)" \
  eval alcohol --gate 'accuracy>=0.5'
ok "a gate on a metric the task does not report is a usage error"

# Classification with a constant fill and standard scaling; then with incomplete rows dropped.
run_mlc 0 --json train "$(table_config cultivar classification class '"impute": {"strategy": "constant", "fill_value": 0}')" --name cultivar
json_field "$OUT" "d['metrics']['validation_accuracy'] >= 0.8" | grep -qx True || fail "cultivar: $OUT"
interop cultivar:1
run_mlc 0 --json train "$(table_config dropped classification class '"impute": {"strategy": "drop_row"}')" --name dropped
json_field "$OUT" "d['train_samples'] + d['validation_samples'] < 178 * 0.8" | grep -qx True \
  || fail "drop_row must leave rows out: $OUT"
ok "classification with constant imputation (Python agrees) and with incomplete rows dropped"

before=$(catalogue_fingerprint)
unchanged() { [ "$(catalogue_fingerprint)" = "$before" ] || fail "$1 changed the catalogue or the store"; }
expect_error 5 "data.categorical[1]: column 'class' is named twice" \
  train "$(table_config twice regression alcohol '"categorical": ["class", "class"]')" --name bad
unchanged "a column named twice"
expect_error 5 "has no column 'colour'" \
  train "$(table_config unknown regression alcohol '"ignore": ["colour"]')" --name bad
unchanged "an unknown column"
expect_error 5 "data.impute: missing required key 'fill_value'" \
  train "$(table_config nofill regression alcohol '"impute": {"strategy": "constant"}')" --name bad
unchanged "constant imputation without its value"
expect_error 5 "wine-missing.csv:5: column 'ash': 'NaN' is not a number (list the column in data.categorical if it holds categories)" \
  train "$(table_config markers regression alcohol '"missing_values": [""]')" --name bad
unchanged "a marker that is not declared missing"
ok "bad table settings are refused with the key path before anything is written"

#!/usr/bin/env bash
# What mlc eval records, checked against an independent computation on the same outputs
# (tests/python/check_eval_metrics.py: scikit-learn and numpy on `mlc predict --limit 0`): per-class
# precision, recall, F1 and support, macro and weighted F1, top-k accuracy, the confusion matrix,
# the expected calibration error; regression's residual quantiles. Then gates and a policy on
# per-class names. Fashion-MNIST (2,000 training images, 500 test) and the wine CSV; about 20 s.
source "$(dirname "$0")/lib.sh"
"$PYTHON" -c "import sklearn" 2> /dev/null || { echo "python3-sklearn is missing (scripts/install-deps.sh)"; exit 1; }
check_metrics() {  # REF [K]: the latest evaluation of REF against Python's computation
  mlc --json show "$1" > show.json
  OUT=$(cat show.json); validate show
  mlc --json predict "$1" --limit 0 > predict.json
  timeout 120 "$PYTHON" "$MLC_SOURCE_DIR/tests/python/check_eval_metrics.py" show.json predict.json "${2:-0}" \
    || fail "metrics of $1 differ from scikit-learn's"
}

mlc -q train "$(tiny_fmnist_config)" --name fm > /dev/null
run_mlc 0 --json eval fm; validate eval
json_field "$OUT" "d['details']['class_names'][0], len(d['details']['confusion_matrix']), 'top5_accuracy' in d['metrics']" \
  | grep -qx "T-shirt/top 10 True" || fail "eval --json: $OUT"
check_metrics fm 5
ok "Fashion-MNIST (10 classes): every metric agrees with scikit-learn; top5_accuracy by default"

run_mlc 0 --json eval fm --top-k 3; validate eval
check_metrics fm 3
run_mlc 0 show fm
for line in "  class          precision  recall      f1  support" "    T-shirt/top" "    Ankle boot" \
            "  confusion matrix (rows: true class, columns: predicted, in the order above)"; do
  grep -qF -- "$line" <<< "$OUT" || fail "show has no '$line': $OUT"
done
grep -q "top3_accuracy" <<< "$OUT" && ! grep -q "recall\[" <<< "$OUT" || fail "show's metrics line: $OUT"
expect_error 2 "--top-k 10: fm:1 has 10 classes; K must be from 1 to 9" eval fm --top-k 10
ok "eval --top-k 3 records top3_accuracy; show tables the classes and the confusion matrix"

mlc -q train "$(wine_config)" --name wine > /dev/null
run_mlc 0 --json eval wine; validate eval
check_metrics wine 0
expect_error 2 "--top-k 3: wine:1 has 3 classes; K must be from 1 to 2" eval wine --top-k 3
mlc -q train "$(alcohol_config)" --name alcohol > /dev/null
run_mlc 0 --json eval alcohol; validate eval
check_metrics alcohol
expect_error 2 "--top-k: alcohol:1 is a regression model; top-k accuracy is for classifiers" eval alcohol --top-k 2
ok "wine (3 classes: no top-k by default) and a regression on wine's alcohol: residual quantiles agree with numpy"

mlc --json show fm > show.json
recall=$(json_field "$(cat show.json)" "d['evaluation']['metrics']['recall[T-shirt/top]']")
run_mlc 0 eval fm --gate "recall[T-shirt/top]>=$recall" --gate "f1.Trouser>0" --gate "support[Ankle boot]>=1"
grep -qF "gate recall[T-shirt/top]>=$recall: passed (recall[T-shirt/top] = " <<< "$OUT" || fail "passing gate: $OUT"
run_mlc 3 eval fm --gate "recall[T-shirt/top]>=1.5" --gate "f1_macro>=0"
case "$ERR" in
  "mlc: error: quality gate failed for fm:1: recall[T-shirt/top] = "*", threshold >= 1.5; metrics recorded, state left evaluated") ;;
  *) fail "failing gate's message: $ERR" ;;
esac
grep -qF "gate recall[T-shirt/top]>=1.5: FAILED" <<< "$OUT" || fail "failing gate on stdout: $OUT"
expect_error 2 "--gate 'recall[Shrt]>=0.5': this model has no class 'Shrt' (its classes: Ankle boot, Bag, Coat," \
  eval fm --gate "recall[Shrt]>=0.5"
expect_error 2 "--gate 'recall.Shirt>=0.5': this model does not report 'recall[Shirt]'" eval alcohol --gate "recall.Shirt>=0.5"
expect_error 2 "--gate 'top3_accuracy>0': this model does not report 'top3_accuracy'" eval wine --gate "top3_accuracy>0"
expect_error 2 "--gate 'recall[]>=1': expected METRIC OP NUMBER" eval fm --gate "recall[]>=1"
ok "gates on per-class names pass and fail (exit 3, the value and the threshold named), in brackets or after a dot"

take_through fm registered
cat > "$MLC_HOME/policy.json" <<'JSON'
{"targets": {"production": {"requires_metrics": ["recall[T-shirt/top]>=1.5"]}}}
JSON
expect_error 6 "rule requires_metrics[0] 'recall[T-shirt/top]>=1.5': recall[T-shirt/top] is " deploy fm --target production
echo '{"targets": {"production": {"requires_metrics": ["recall.Trouser>=0", "f1_macro>=0"]}}}' > "$MLC_HOME/policy.json"
run_mlc 0 deploy fm --target production
ok "a policy's requires_metrics names per-class metrics the same way"

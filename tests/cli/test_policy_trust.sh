#!/usr/bin/env bash
# Evaluations a policy can trust (issue 10 item 6), tried as a new user would: a version evaluated
# only on a five-row file of its own choosing does not pass requires_metrics; its own test split
# does, and so does a data set the policy names by fingerprint. Every evaluation is a history event
# with its data fingerprint. The wine CSV; about 10 s.
source "$(dirname "$0")/lib.sh"

mlc -q train "$(wine_config)" --name wine > /dev/null
head -6 "$MLC_TEST_DATA_DIR/wine.csv" > five.csv   # the header and five rows
run_mlc 0 --json eval wine:1 --data five.csv; validate eval
five=$(json_field "$OUT" "d['data_fingerprint']")
[ "$(json_field "$OUT" "d['samples'], d['on_test_split'], len(d['data_fingerprint'])")" = "5 False 64" ] || fail "eval --data: $OUT"
mlc -q export wine:1 --out "$WORK/wine1.pt" > /dev/null
mlc -q register wine:1 > /dev/null
cat > "$MLC_HOME/policy.json" <<'JSON'
{"targets": {"production": {"requires_metrics": ["accuracy>=0.5"]}}}
JSON
before=$(catalogue_fingerprint)
expect_error 6 "target 'production' refuses wine:1: rule requires_metrics[0] 'accuracy>=0.5': its evaluations were on other data than its test split (latest: 5 samples, data fingerprint $five), which counts only when targets.production.evaluation_data names it; run mlc eval wine:1 for its test split" \
  deploy wine:1 --target production
[ "$(catalogue_fingerprint)" = "$before" ] || fail "a refused deploy changed something"
run_mlc 0 show wine:1
grep -qF "  tested on    other data (--data), data fingerprint $five" <<< "$OUT" || fail "show: $OUT"
ok "an evaluation on five rows of the user's choosing does not satisfy requires_metrics (exit 6, saying why)"

cat > "$MLC_HOME/policy.json" <<JSON
{"targets": {"production": {"requires_metrics": ["accuracy>=0.5"], "evaluation_data": ["$five"]}}}
JSON
run_mlc 0 deploy wine:1 --target production
ok "a data set the policy names by its fingerprint counts"

mlc -q train "$(wine_config)" --name wine --set training.seed=11 --set training.epochs=2 > /dev/null   # wine:2
accuracy=$(json_field "$(mlc --json eval wine:2)" "d['metrics']['accuracy']")
five_accuracy=$(json_field "$(mlc --json eval wine:2 --data five.csv)" "d['metrics']['accuracy']")   # newer
mlc -q export wine:2 --out "$WORK/wine2.pt" > /dev/null
mlc -q register wine:2 > /dev/null
# A threshold between the two accuracies: only the evaluation counted decides.
threshold=$("$PYTHON" -c "import sys; a, f = float(sys.argv[1]), float(sys.argv[2]); print((a + f) / 2 if a != f else '')" "$accuracy" "$five_accuracy")
[ -n "$threshold" ] || fail "wine:2 scores the same on both ($accuracy): the test cannot tell which counted"
if "$PYTHON" -c "import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)" "$accuracy" "$five_accuracy"; then
  rule="accuracy>=$threshold"   # its test split passes, the five rows would not
else
  rule="accuracy<=$threshold"
fi
echo "{\"targets\": {\"production\": {\"requires_metrics\": [\"$rule\"]}}}" > "$MLC_HOME/policy.json"
run_mlc 0 deploy wine:2 --target production
run_mlc 0 --json history wine:2; validate history
json_field "$OUT" "[(h['detail']['on_test_split'], h['detail']['samples']) for h in d['history'] if h['event'] == 'evaluation']" \
  | grep -qx "\[(True, 36), (False, 5)\]" || fail "evaluation events: $OUT"
run_mlc 0 history wine:2
grep -qF "on its test split, 36 samples (data " <<< "$OUT" && grep -qF "on other data, 5 samples (data ${five:0:12}): accuracy" <<< "$OUT" \
  || fail "history's reasons: $OUT"
ok "its own test split counts, whatever came after it on other data; every evaluation is a history event with its data"

echo '{"targets": {"canary": {"requires_metrics": ["accuracy>=0"], "min_samples": 50}}}' > "$MLC_HOME/policy.json"
expect_error 6 "target 'canary' refuses wine:2: rule requires_metrics[0] 'accuracy>=0': its latest evaluation on data the policy counts has 36 samples, fewer than targets.canary.min_samples (50)" \
  deploy wine:2 --target canary
echo "{\"targets\": {\"canary\": {\"requires_metrics\": [\"accuracy>=0\"], \"evaluation_data_only\": true, \"evaluation_data\": [\"$five\"]}}}" > "$MLC_HOME/policy.json"
run_mlc 0 deploy wine:2 --target canary   # its evaluation on five.csv, named
echo '{"targets": {"canary": {"requires_metrics": ["accuracy>=0"], "evaluation_data_only": true}}}' > "$MLC_HOME/policy.json"
expect_error 6 "it has no evaluation on the data targets.canary.evaluation_data names (evaluation_data_only)" deploy wine:1 --target canary
ok "min_samples refuses a test split of too few rows; evaluation_data_only counts the named data alone"

echo '{"targets": {"production": {"evaluation_data": ["not-a-fingerprint"]}}}' > "$MLC_HOME/policy.json"
expect_error 5 "policy.json: targets.production.evaluation_data[0]" deploy wine:1 --target production
ok "evaluation_data holds sha256 fingerprints (a policy with another string is refused, exit 5)"

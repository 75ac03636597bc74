#!/usr/bin/env bash
# Relative gates (issue 10 item 4): eval --gate 'METRIC OP @TARGET[+-NUMBER]' holds a version to
# the one TARGET holds, on the same data (the same data fingerprint: files by sha256, rows): an
# evaluation it has there is reused, else it is evaluated in the same command and recorded; other
# data is never compared. Then the policy's requires_better_than refusing and accepting a deploy.
# The wine CSV (178 rows, 30 epochs); about 15 s.
source "$(dirname "$0")/lib.sh"

evaluations_of() {  # NAME VERSION: how many evaluations the catalogue holds for it
  "$PYTHON" -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(
    'SELECT count(*) FROM evaluations e JOIN versions v ON v.id = e.version_id JOIN models m ON m.id = v.model_id '
    'WHERE m.name = ? AND v.version = ?', (sys.argv[2], int(sys.argv[3]))).fetchone()[0])" \
    "$MLC_HOME/catalog.db" "$1" "$2"
}
gate_field() { json_field "$OUT" "d['gates'][${2:-0}]$1"; }

config=$(wine_config)
mlc -q train "$config" --name wine > /dev/null
take_through wine:1 registered
mlc -q deploy wine:1 --target production > /dev/null
mlc -q train "$config" --name wine --set training.epochs=3 > /dev/null

# --- reused: production's wine:1 was evaluated on the same test split ----------------------------
run_mlc 0 --json eval wine:2 --gate 'accuracy>=@production-1'; validate eval
mlc --json show wine:1 > show1.json
[ "$(gate_field "['baseline']['version']")" = 1 ] && [ "$(gate_field "['passed']")" = True ] \
  || fail "relative gate: $OUT"
[ "$(gate_field "['baseline']['evaluated_at']")" = "$(json_field "$(cat show1.json)" "d['evaluation']['at']")" ] \
  || fail "the gate did not reuse wine:1's evaluation: $OUT"
[ "$(evaluations_of wine 1)" = 1 ] || fail "wine:1 was evaluated again"
ok "a passing relative gate reuses the target's evaluation on the same data (exit 0)"

# --- failing: both values and the difference, exit 3 -------------------------------------------
run_mlc 3 eval wine:2 --gate 'accuracy>@production+1'
mlc --json show wine:2 > show2.json
expected=$("$PYTHON" -c "import json
value = json.load(open('show2.json'))['evaluation']['metrics']['accuracy']
base = json.load(open('show1.json'))['evaluation']['metrics']['accuracy']
print(f\"accuracy = {value:.6g} vs production's wine:1 {base:.6g} ({value - base:+.6g}), gate > @production+1\")")
[ "$ERR" = "mlc: error: quality gate failed for wine:2: $expected; metrics recorded, state left evaluated" ] \
  || fail "failing relative gate: '$ERR', expected '$expected'"
grep -qF "gate accuracy>@production+1: FAILED ($expected)" <<< "$OUT" || fail "eval's report: $OUT"
run_mlc 0 eval wine:1 --gate 'accuracy>=@production' --gate 'loss==@production'
grep -qF "(+0), gate >= @production)" <<< "$OUT" || fail "wine:1 against itself: $OUT"
ok "a failing relative gate exits 3 with both values and the difference; a version against itself passes"

run_mlc 3 --json eval wine:2 --gate 'loss<@staging'; validate eval
[ "$(gate_field "['reason']")" = "staging holds no version of wine" ] && [ "$(gate_field "['baseline']['version']")" = None ] \
  || fail "no version on the target: $OUT"
grep -qF "gate < @staging: staging holds no version of wine" <<< "$ERR" || fail "$ERR"
expect_error 2 "--gate 'accuracy>=@': '@' must be followed by a target name, e.g. 'accuracy>=@production-0.005'" \
  eval wine:2 --gate 'accuracy>=@'
expect_error 2 "--gate 'accuracy>=@production*2': after '@production' expected nothing or +NUMBER or -NUMBER" \
  eval wine:2 --gate 'accuracy>=@production*2'
ok "a target holding no version of the model fails the gate (exit 3); a malformed @TARGET is exit 2"

# --- evaluated in the same command: production's wine:1 had no evaluation on this data ---------
head -61 "$MLC_TEST_DATA_DIR/wine.csv" > part.csv   # the header and 60 rows
before=$(evaluations_of wine 1)
run_mlc 0 --json eval wine:2 --data part.csv --gate 'f1_macro>=@production-1'; validate eval
[ "$(evaluations_of wine 1)" = $((before + 1)) ] || fail "wine:1 was not evaluated on part.csv"
mlc --json show wine:1 > show1.json
json_field "$(cat show1.json)" "d['evaluation']['samples'], d['evaluation']['data_files'][0]['path'] == '$WORK/part.csv'" \
  | grep -qx "60 True" || fail "wine:1's evaluation on part.csv: $(cat show1.json)"
[ "$(gate_field "['baseline']['evaluated_at']")" = "$(json_field "$(cat show1.json)" "d['evaluation']['at']")" ] \
  || fail "the gate was not held to the new evaluation: $OUT"
run_mlc 0 eval wine:2 --data part.csv --gate 'f1_macro>=@production-1'
grep -qF "evaluated production's wine:1 on the same data" <<< "$OUT" && fail "evaluated again: $OUT"
[ "$(evaluations_of wine 1)" = $((before + 1)) ] || fail "wine:1 evaluated again on the same data"
ok "without an evaluation on the same data, the target's version is evaluated on it and recorded, once"

# --- other data is never compared --------------------------------------------------------------
{ head -1 "$MLC_TEST_DATA_DIR/wine.csv"; tail -n +2 "$MLC_TEST_DATA_DIR/wine.csv" | head -150; } > other.csv
mlc -q train "$(wine_config "$WORK/other.csv")" --name wine > /dev/null   # wine:3, trained on other.csv
run_mlc 3 --json eval wine:3 --gate 'accuracy>=@production-1'; validate eval
case "$(gate_field "['reason']")" in
  "production's wine:1 was tested on other data than wine:3 ("*" samples, data fingerprint "*"); name the data to compare on with --data") ;;
  *) fail "other data compared: $OUT" ;;
esac
[ "$(json_field "$OUT" "d['gates'][0]['passed'], 'difference' in d['gates'][0]")" = "False False" ] \
  || fail "other data compared: $OUT"
run_mlc 0 eval wine:3 --data part.csv --gate 'accuracy>=@production-1'
grep -qF "vs production's wine:1" <<< "$OUT" || fail "the same --data not compared: $OUT"
ok "a target's version tested on other data fails the gate, saying so; --data compares both on it"

# --- a target's version without a checkpoint cannot be evaluated --------------------------------
"$PYTHON" "$MLC_SOURCE_DIR/tests/cli/make_torchscript.py" a.pt --features 13 --classes 3
mlc -q register --artifact a.pt --name wine > /dev/null   # wine:4
mlc -q deploy wine:4 --target edge > /dev/null
before=$(catalogue_fingerprint)
expect_error 6 "edge's wine:4 has no evaluation on the same data, and cannot be evaluated: it was registered from a TorchScript file, without a checkpoint" \
  eval wine:2 --gate 'accuracy>=@edge'
[ "$(catalogue_fingerprint)" = "$before" ] || fail "a refused eval recorded something"
ok "a target holding an artifact-only version without a comparable evaluation is refused (exit 6)"

# --- the policy: requires_better_than ----------------------------------------------------------
cat > "$MLC_HOME/policy.json" <<'JSON'
{"targets": {"production": {"requires_better_than": ["accuracy>=@current+1"]},
             "canary": {"requires_better_than": ["f1_macro>=@current-1"]}}}
JSON
mlc -q export wine:2 --out "$WORK/wine2.pt" > /dev/null
mlc -q register wine:2 > /dev/null
# wine:2's latest counted evaluation is on its test split, where wine:1 was evaluated too (its
# newer ones on part.csv do not count: the policy does not name that data).
expect_error 6 "policy.json: target 'production' refuses wine:2: rule requires_better_than[0] 'accuracy>=@current+1': accuracy = " \
  deploy wine:2 --target production
grep -qF "vs production's wine:1 " <<< "$ERR" && grep -qF "needs >= @production+1" <<< "$ERR" || fail "$ERR"
mlc -q deploy wine:1 --target canary > /dev/null   # canary held nothing: nothing to beat
run_mlc 0 deploy wine:2 --target canary            # on the test split, where canary's wine:1 was evaluated
# wine:3's latest evaluation: its own test split (of other.csv), where canary's wine:2 has none.
mlc -q eval wine:3 > /dev/null
mlc -q export wine:3 --out "$WORK/wine3.pt" > /dev/null
mlc -q register wine:3 > /dev/null
before=$(catalogue_fingerprint)
expect_error 6 "rule requires_better_than[0] 'f1_macro>=@current-1': canary's wine:2 has no evaluation on the data of its latest counted evaluation" \
  deploy wine:3 --target canary
grep -qF "run mlc eval wine:3 --gate 'f1_macro>=@canary-1'" <<< "$ERR" || fail "no command to run: $ERR"
grep -qF "list its data fingerprint in targets.canary.evaluation_data" <<< "$ERR" || fail "no word on --data: $ERR"
[ "$(catalogue_fingerprint)" = "$before" ] || fail "a refused deploy recorded something"
run_mlc 0 --json eval wine:3 --data part.csv --gate 'f1_macro>=@canary-1'; validate eval
part_fingerprint=$(json_field "$OUT" "d['data_fingerprint']")
expect_error 6 "canary's wine:2 has no evaluation on the data of its latest counted evaluation" deploy wine:3 --target canary
cat > "$MLC_HOME/policy.json" <<JSON
{"targets": {"canary": {"requires_better_than": ["f1_macro>=@current-1"], "evaluation_data": ["$part_fingerprint"]}}}
JSON
run_mlc 0 deploy wine:3 --target canary
ok "requires_better_than: no version to beat passes; a worse one is refused with both values (exit 6); without comparable evaluations it names the eval to run; --data counts once the policy names its fingerprint"

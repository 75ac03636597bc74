#!/usr/bin/env bash
# Output a person can read (issue 14, items 5 and 7): list's headline metric, description,
# targets, --tag, --sort and --limit; history --limit; tables sized to their content; show's
# layers and optimizer; no colour codes ever; training progress that fits its terminal or log.
source "$(dirname "$0")/lib.sh"

# The column where `pattern` (a Python regex) starts, on every line of $OUT that has it.
column_of() { printf '%s\n' "$OUT" | "$PYTHON" -c '
import re, sys
print(" ".join(str(m.start()) for m in (re.search(sys.argv[1], line) for line in sys.stdin) if m))' "$1"; }
# Passes when every number in "$1" is the same.
all_equal() { [ "$(printf '%s\n' $1 | sort -u | wc -l)" -eq 1 ]; }

long=a-model-name-of-fifty-one-characters-xxxxxxxxxxxxxx
[ ${#long} -eq 51 ] || fail "the long name must have 51 characters"
wine=$(wine_config)
mlc -q train "$wine" --name "$long" --epochs 3 > /dev/null
mlc -q train "$wine" --name w --epochs 3 > /dev/null
mlc -q train "$wine" --name w --epochs 3 > /dev/null
mlc -q eval w:1 > /dev/null
mlc -q eval "$long:1" > /dev/null
cat > regression.json <<JSON
{"data": {"format": "csv", "path": "$MLC_TEST_DATA_DIR/wine.csv", "target": "alcohol", "task": "regression"},
 "model": {"architecture": "mlp", "hidden_layers": [8]},
 "training": {"epochs": 3, "batch_size": 16, "seed": 1, "threads": 1,
              "optimizer": {"name": "sgd", "learning_rate": 0.005, "momentum": 0.9}}}
JSON
mlc -q train regression.json --name r > /dev/null
mlc -q eval r > /dev/null
"$PYTHON" "$MLC_SOURCE_DIR/tests/cli/make_torchscript.py" byo.pt
echo '{"labels": ["a", "b", "c"], "metrics": {"accuracy": 0.93}}' > byo-manifest.json
mlc -q register --artifact byo.pt --name byo --manifest byo-manifest.json > /dev/null
description="A description far longer than any table cell should hold, so list shortens it to forty characters"
take_through w:1 registered
mlc -q edit w:1 --description "$description" --tag team=vision --tag stage=beta > /dev/null
mlc -q edit w:2 --tag team=vision --tag stage=ga > /dev/null
mlc -q deploy w:1 --target staging > /dev/null
mlc -q deploy w:1 --target production > /dev/null

# list: columns sized to their content, whatever the names' length.
run_mlc 0 list
lines=$(printf '%s\n' "$OUT" | grep -c .)
[ "$lines" -eq 7 ] || fail "list: a header, 5 versions and the footnote, got: $OUT"
created=$(column_of '(CREATED|20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T)')
[ "$(echo $created | wc -w)" -eq 6 ] && all_equal "$created" || fail "list: CREATED not aligned ($created): $OUT"
state=$(column_of '(STATE|(?<=  )(trained|evaluated|registered|deployed)(?=  ))')
all_equal "$state" || fail "list: STATE not aligned ($state): $OUT"
grep -q ' $' <<< "$OUT" && fail "list: trailing spaces: $OUT"
ok "list: a 51-character name keeps every column aligned"

# has_row REGEX: a line of $OUT matches the extended regular expression.
has_row() { grep -Eq "$1" <<< "$OUT" || fail "list: no line matches '$1': $OUT"; }
has_row '^w +1 +deployed .* accuracy +0\.[0-9]{4}  production,staging  A description far longer than any table\.\.\.$'
has_row '^w +2 +trained .* - +-  -$'
has_row '^r +1 +evaluated .* rmse +[0-9]+\.[0-9]{4}  -$'
has_row '^byo +1 +registered .* accuracy +0\.9300\*  -$'
printf '%s\n' "$OUT" | tail -1 | grep -q "^\* self-reported by a registered artifact's manifest, not measured by mlc$" \
  || fail "list: the footnote for '*': $OUT"
ok "list: headline metric (accuracy, rmse, '*' self-reported, '-' none), targets, shortened description"

run_mlc 0 --json list
validate list
[ "$(json_field "$OUT" "[v['headline'] and v['headline']['metric'] for v in d['versions']]")" \
  = "['accuracy', 'accuracy', 'rmse', 'accuracy', None]" ] || fail "list --json headlines: $OUT"
[ "$(json_field "$OUT" "[v['headline']['self_reported'] for v in d['versions'] if v['model'] == 'byo']")" = "[True]" ] \
  || fail "list --json: self_reported"
[ "$(json_field "$OUT" "[v['description'] for v in d['versions'] if v['model'] == 'w'][0]")" = "$description" ] \
  || fail "list --json: the whole description"
ok "list --json: headline and latest_metrics, valid against list.schema.json"

run_mlc 0 --json list --tag team=vision; validate list
[ "$(json_field "$OUT" "[v['version'] for v in d['versions']]")" = "[1, 2]" ] || fail "--tag team=vision: $OUT"
run_mlc 0 --json list --tag team=vision --tag stage=ga
[ "$(json_field "$OUT" "[v['version'] for v in d['versions']]")" = "[2]" ] || fail "two --tag must both match: $OUT"
run_mlc 0 list --tag team=nobody
[ "$OUT" = "no versions" ] || fail "no match: $OUT"
expect_error 2 "--tag" list --tag novalue
ok "list --tag KEY=VALUE: every one must match"

run_mlc 0 --json list --sort accuracy; validate list
[ "$(json_field "$OUT" "[v['model'] for v in d['versions']][-2:]")" = "['r', 'w']" ] \
  || fail "--sort accuracy: versions without accuracy last: $OUT"
[ "$(json_field "$OUT" "all(a['latest_metrics']['accuracy'] >= b['latest_metrics']['accuracy'] for a, b in zip(d['versions'][:3], d['versions'][1:3]))")" = "True" ] \
  || fail "--sort accuracy: best first: $OUT"
run_mlc 0 --json list --sort loss
[ "$(json_field "$OUT" "[v['latest_metrics'].get('loss') is not None for v in d['versions']]")" = "[True, True, True, False, False]" ] \
  || fail "--sort loss reads loss: $OUT"
run_mlc 0 list --sort loss
head -1 <<< "$OUT" | grep -q "  loss  " || fail "--sort by a metric that is not the headline adds its column: $OUT"
run_mlc 0 --json list --sort created
[ "$(json_field "$OUT" "[v['created_at'] for v in d['versions']] == sorted(v['created_at'] for v in d['versions'])")" = "True" ] \
  || fail "--sort created: oldest first: $OUT"
run_mlc 0 --json list --limit 2; validate list
[ "$(json_field "$OUT" "[v['model'] for v in d['versions']]")" = "['byo', 'r']" ] || fail "--limit 2: the two newest: $OUT"
run_mlc 0 --json list --limit 2 --sort created
[ "$(json_field "$OUT" "[v['model'] for v in d['versions']]")" = "['r', 'byo']" ] || fail "--limit 2 --sort created: $OUT"
run_mlc 0 --json list --sort accuracy --limit 1
best=$(json_field "$OUT" "[(v['model'], v['version']) for v in d['versions']]")
[ "$best" = "$(json_field "$(mlc --json list --sort accuracy)" "[(v['model'], v['version']) for v in d['versions']][:1]")" ] \
  || fail "--sort accuracy --limit 1 is the best one: $best"
expect_error 2 "--limit must be at least 1, not 0" list --limit 0
ok "list --sort name|created|METRIC and --limit N (the newest N, then sorted; by a metric the best N)"

# history: --limit keeps the newest rows, oldest first; the table is aligned.
run_mlc 0 --json history w:1; validate history
all_rows=$(json_field "$OUT" "len(d['history'])")
last_two=$(json_field "$OUT" "[h['at'] for h in d['history']][-2:]")
run_mlc 0 --json history w:1 --limit 2; validate history
[ "$(json_field "$OUT" "[h['at'] for h in d['history']]")" = "$last_two" ] || fail "history --limit 2: $OUT"
[ "$all_rows" -gt 2 ] || fail "w:1 has more than two history rows"
run_mlc 0 history w:1 --limit 2
[ "$(printf '%s\n' "$OUT" | wc -l)" -eq 3 ] || fail "history --limit 2: a header and two rows: $OUT"
run_mlc 0 history w --target staging --limit 1
[ "$(printf '%s\n' "$OUT" | wc -l)" -eq 2 ] || fail "history --target --limit 1: $OUT"
expect_error 2 "--limit" history w --limit 0
run_mlc 0 history "$long"
actor=$(column_of '(ACTOR|cli-test)')
[ "$(echo $actor | wc -w)" -ge 3 ] && all_equal "$actor" || fail "history: ACTOR not aligned ($actor): $OUT"
ok "history --limit N: the newest N rows, oldest first; columns aligned with a 51-character name"

# show: the architecture's layers, the optimizer and its learning rate.
run_mlc 0 show w:1
case "$OUT" in *"layers       hidden [16]"*) ;; *) fail "show: layers: $OUT" ;; esac
case "$OUT" in *"optimizer    adam, learning rate 0.01"*) ;; *) fail "show: optimizer: $OUT" ;; esac
run_mlc 0 show r
case "$OUT" in *"layers       hidden [8]"*"optimizer    sgd, learning rate 0.005"*) ;; *) fail "show r: $OUT" ;; esac
cat > recurrent.json <<JSON
{"data": {"format": "csv", "path": "$MLC_TEST_DATA_DIR/wine.csv", "target": "class"},
 "model": {"architecture": "gru", "hidden_size": 12, "num_layers": 2},
 "training": {"epochs": 1, "batch_size": 32, "seed": 1, "threads": 1,
              "optimizer": {"name": "rmsprop", "learning_rate": 0.01}}}
JSON
mlc -q train recurrent.json --name g > /dev/null
run_mlc 0 show g
case "$OUT" in *"architecture gru"*"layers       hidden size 12, layers 2,"*"optimizer    rmsprop, learning rate 0.01"*) ;;
  *) fail "show g: $OUT" ;; esac
ok "show: layers as the config states them, the optimizer and its learning rate"

# No colour, ever: NO_COLOR holds trivially.
for command in "list" "show w:1" "history w"; do
  run_mlc 0 $command
  case "$OUT$ERR" in *$'\033'*) fail "mlc $command wrote an escape sequence: $OUT" ;; esac
done
ok "list, show and history write no colour codes"

# Progress in a log (stderr a file): no carriage returns, one line per epoch, never wrapped.
COLUMNS=40 "$MLC_BIN" train "$wine" --name p > /dev/null 2> progress.log
grep -q $'\r' progress.log && fail "a log got carriage returns: $(cat -A progress.log)"
grep -q $'\033' progress.log && fail "a log got escape sequences: $(cat -A progress.log)"
[ "$(grep -c '^epoch [0-9]*: train loss .*validation loss' progress.log)" -eq 30 ] || fail "one line per epoch: $(cat progress.log)"
grep -q '^ ' progress.log && fail "a wrapped continuation line in a log: $(cat progress.log)"
ok "progress in a log: plain lines, one whole line per epoch"

# On a terminal 40 columns wide: every piece between carriage returns and newlines fits.
script -qec "stty cols 40; '$MLC_BIN' train '$wine' --name p --epochs 3 > /dev/null" /dev/null > terminal.log < /dev/null \
  || fail "train under script(1) failed: $(cat -A terminal.log)"
"$PYTHON" - terminal.log <<'PY' || fail "a live line wider than the terminal: $(cat -A terminal.log)"
import re, sys
text = open(sys.argv[1], encoding="utf-8").read().replace("\033[K", "")
pieces = [p for p in re.split(r"[\r\n]", text) if p]
assert any("loading data" in p for p in pieces), pieces
assert any(p.startswith("epoch 1/3  batch") for p in pieces), pieces
assert any(p == "epoch 1/3  validating..." for p in pieces), pieces
assert all(len(p) <= 40 for p in pieces), [p for p in pieces if len(p) > 40]
PY
ok "progress on a 40-column terminal: the live line is cut, epoch lines wrapped"

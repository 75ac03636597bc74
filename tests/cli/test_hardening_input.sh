#!/usr/bin/env bash
# Hostile input (issue 13, items 7, 8, 9, 10, 11, 13): JSON with duplicate keys or nested 70,000
# deep, /dev/zero as a JSON file, integers that would wrap, bytes that would poison the history or
# drive the terminal, a stdout that cannot be written. Each is one `mlc: error:` line with its
# documented exit code, and nothing is recorded.
source "$(dirname "$0")/lib.sh"
"$PYTHON" "$MLC_SOURCE_DIR/tests/cli/make_torchscript.py" a.pt
config=$(wine_config)
deep() { "$PYTHON" -c "import sys; n = int(sys.argv[1]); print('[' * n + ']' * n)" "${1:-70000}"; }

# --- item 7: duplicate keys, everywhere mlc reads JSON --------------------------------------------
sed 's/"epochs": 30,/"epochs": 30, "epochs": 1,/' "$config" > dup-config.json
expect_error 5 "dup-config.json: training.epochs: duplicate key \"epochs\"" train dup-config.json --name w
[ ! -e "$MLC_HOME" ] || fail "a refused train created MLC_HOME"
echo '{"metrics": {"accuracy": 0.5, "accuracy": 0.99}}' > dup-manifest.json
expect_error 5 "$WORK/dup-manifest.json: metrics.accuracy: duplicate key \"accuracy\"" \
  register --artifact a.pt --name byo --manifest dup-manifest.json
mlc -q register --artifact a.pt --name byo > /dev/null
# The issue's example: the second "targets" replaced the first, and production was unprotected.
cat > "$MLC_HOME/policy.json" <<'JSON'
{"targets": {"production": {"requires_deployed_to": ["staging"]}},
 "targets": {}}
JSON
before=$(catalogue_fingerprint)
expect_error 5 "policy.json: targets: duplicate key \"targets\"" deploy byo:1 --target production
[ "$(catalogue_fingerprint)" = "$before" ] || fail "a refused deploy changed the catalogue"
ok "a duplicate key is refused in a config, a manifest and policy.json (exit 5, key path)"

# --- item 9: nesting 70,000 deep, a 30,000-character metric name: no SIGSEGV --------------------
deep > deep.json
expect_error 5 "deep.json: [0][0][0]" train deep.json --name w
case "$ERR" in *"nested deeper than 64 levels of arrays and objects") ;; *) fail "deep config: $ERR" ;; esac
expect_error 5 "nested deeper than 64 levels" register --artifact a.pt --name byo --manifest deep.json
cp deep.json "$MLC_HOME/policy.json"
expect_error 5 "policy.json: [0]" deploy byo:1 --target production
# One argument may have at most 128 KiB: 30,000 levels.
expect_error 5 "nested deeper than 64 levels" train "$config" --name w --set "model.hidden_layers=$(deep 30000)"
"$PYTHON" -c "print('{\"targets\": {\"production\": {\"requires_metrics\": [\"' + 'a' * 30000 + '>=0.9\"]}}}')" \
  > "$MLC_HOME/policy.json"
expect_error 5 "targets.production.requires_metrics[0]: must be a string of at most 256 characters" \
  deploy byo:1 --target production
rm "$MLC_HOME/policy.json"
ok "JSON nested 70,000 deep and a 30,000-character metric rule give one error line, exit 5"

# --- item 10: JSON files are read up to a limit ---------------------------------------------------
for args in "train /dev/zero --name w" "register --artifact a.pt --name byo --manifest /dev/zero"; do
  status=0
  timeout 60 "$MLC_BIN" $args > stdout 2> stderr || status=$?
  [ "$status" -eq 5 ] || fail "mlc $args exited $status, expected 5: $(cat stderr)"
  grep -qx "mlc: error: /dev/zero: larger than 16777216 bytes (the limit for JSON input; MLC_MAX_JSON_BYTES raises it)" stderr \
    || fail "mlc $args: $(cat stderr)"
done
MLC_MAX_JSON_BYTES=100 expect_error 5 "wine.json: larger than 100 bytes (the limit for JSON input; MLC_MAX_JSON_BYTES raises it)" \
  train "$config" --name w
MLC_MAX_JSON_BYTES=lots expect_error 5 "MLC_MAX_JSON_BYTES: 'lots' is not a positive number of bytes" \
  train "$config" --name w
ok "/dev/zero as a config or manifest stops at 16 MiB (exit 5, the limit named); MLC_MAX_JSON_BYTES sets it"

# --- item 11: integers are range-checked, never wrapped -------------------------------------------
expect_error 5 "training.epochs: must be an integer >= 1 and <= 1000000, got 4294967298" \
  train "$config" --name w --set training.epochs=4294967298
expect_error 5 "training.epochs: must be an integer >= 1 and <= 1000000, got 1000000000000.0" \
  train "$config" --name w --set training.epochs=1e12
expect_error 5 "training.seed: must be an integer >= 0 and <= 9223372036854775807, got 9223372036854775808" \
  train "$config" --name w --set training.seed=9223372036854775808
expect_error 5 "integer 99999999999999999999 is out of range (at most 64 bits)" \
  train "$config" --name w --set training.seed=99999999999999999999
run_mlc 0 -q train "$config" --name w --set training.epochs=1 --set training.seed=9223372036854775807
run_mlc 0 --json show w:1
[ "$(json_field "$OUT" "d['config']['training']['seed'], d['config']['training']['epochs']")" = "9223372036854775807 1" ] \
  || fail "the largest seed is recorded as an integer: $OUT"
ok "epochs 4294967298 or 1e12 and seeds past 2^63 are refused with the key and range; 2^63 - 1 is kept exactly"

# --- item 8: bytes that would poison the history --------------------------------------------------
before=$(catalogue_fingerprint)
expect_error 5 "--reason: not valid UTF-8 (byte 0xFF at offset 3)" retire byo:1 --reason $'bad\xff'
expect_error 5 "--description: not valid UTF-8" edit byo:1 --description $'\xc3('
expect_error 5 "--description: not valid UTF-8" register w:1 --description $'\xff'
expect_error 5 "not valid UTF-8" edit byo:1 --tag $'team=\xff'
expect_error 5 "--untag: not valid UTF-8" edit byo:1 --untag $'\xff'
expect_error 5 "--reason: not valid UTF-8" alias byo champion 1 --reason $'\xff'
expect_error 5 "--reason: not valid UTF-8" deploy byo:1 --target staging --reason $'\xff'
MLC_ACTOR=$'ci\xffbot' expect_error 5 "MLC_ACTOR: not valid UTF-8 (byte 0xFF at offset 2)" edit byo:1 --description x
expect_error 5 "--reason: control character U+000A at offset 4 is not allowed" \
  retire byo:1 --reason $'typo\n2026-01-01T00:00:00Z  byo:1  deployed'
expect_error 5 "--description: control character U+001B at offset 0 is not allowed" \
  edit byo:1 --description $'\e]0;pwned\a'
MLC_ACTOR=$'ci\nbot' expect_error 5 "MLC_ACTOR: control character U+000A" edit byo:1 --description x
[ "$(catalogue_fingerprint)" = "$before" ] || fail "refused text changed the catalogue"
run_mlc 0 --json history byo
ok "invalid UTF-8 and control characters in --reason, --description, tags and MLC_ACTOR are refused (exit 5)"

# A file name that is not UTF-8 is legitimate: the command line is recorded with it escaped.
mkdir -p exports
mlc -q eval w:1 > /dev/null
run_mlc 0 -q export w:1 --out "exports/"$'\xff'".pt"
run_mlc 0 --json history w:1
json_field "$OUT" "d['history'][-1]['command']" | grep -qF "\$'exports/\\xff.pt'" \
  || fail "the command line with a non-UTF-8 file name: $OUT"
ok "a non-UTF-8 file name on the command line is recorded escaped, as \$'...'; history --json still works"

# A catalogue written before these checks may hold anything: it is printed, escaped, never fatal.
"$PYTHON" - "$MLC_HOME/catalog.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE versions SET description = CAST(? AS TEXT) WHERE version = 1", (b"old\xff\n\x1b[2j",))
db.execute("""INSERT INTO history (version_id, at, from_state, to_state, actor, reason, target, command,
                                   event, host, detail)
              SELECT version_id, at, from_state, to_state, CAST(? AS TEXT), CAST(? AS TEXT),
                     target, command, event, host, detail
              FROM history ORDER BY id LIMIT 1""",  # byo:1 registered, the first row
           (b"ev\xff", b"forged\xff\n2026-01-01T  byo:1  retired!"))
db.commit()
PY
run_mlc 0 --json history byo
validate history
rows=$(json_field "$OUT" "len(d['history'])")
run_mlc 0 --json show byo:1
validate show
run_mlc 0 history byo
[ "$(printf '%s\n' "$OUT" | wc -l)" -eq $((rows + 1)) ] || fail "a newline in a reason forged a row: $OUT"
case "$OUT" in *'forged\xff\n2026-01-01T  byo:1  retired!'*) ;; *) fail "history does not escape: $OUT" ;; esac
run_mlc 0 show byo:1
case "$OUT" in *'description  old\xff\n\x1b[2j'*) ;; *) fail "show does not escape: $OUT" ;; esac
grep -q $'\e' <<< "$OUT" && fail "show printed an escape character"
ok "invalid UTF-8 already in a catalogue: --json prints U+FFFD, history and show escape; no forged rows"

expect_error 2 'reference' show $'byo\e[31m'
case "$ERR" in *'\x1b[31m'*) ;; *) fail "the error line does not escape: $ERR" ;; esac
ok "an error message quoting user bytes stays one line, escaped"

# --- item 13: stdout that cannot be written; list NAME of an unknown name ------------------------
for redirect in full closed; do
  status=0
  if [ $redirect = full ]; then "$MLC_BIN" --json list > /dev/full 2> stderr || status=$?
  else "$MLC_BIN" --json list >&- 2> stderr || status=$?; fi
  [ "$status" -eq 1 ] || fail "list with a $redirect stdout exited $status"
  [ "$(wc -l < stderr)" -eq 1 ] || fail "list with a $redirect stdout: $(cat stderr)"
done
status=0; "$MLC_BIN" --json list > /dev/full 2> stderr || status=$?
grep -qx "mlc: error: cannot write to stdout: No space left on device" stderr || fail "/dev/full: $(cat stderr)"
expect_error 4 "no model named 'nosuch'" list nosuch
run_mlc 0 list byo
ok "a full or closed stdout is exit 1 with one line; list of an unknown model is exit 4"

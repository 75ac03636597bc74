#!/usr/bin/env bash
# Everyday use without friction (issue 14): re-runnable pipelines (register twice, export into a
# directory, one manifest per model file), helpful mistakes (did you mean, a leading dash) and an
# emptied production that is never a surprise (retire --force says so; --rollback puts back).
source "$(dirname "$0")/lib.sh"
config=$(wine_config)

for seed in 3 4 5 6; do mlc -q train "$config" --name m --seed "$seed" > /dev/null; done
for v in 1 2 3 4; do take_through "m:$v" exported; done

# --- register twice --------------------------------------------------------------------------
run_mlc 0 --json register m:1 --description "first" --tag owner=ci
validate register
[ "$(json_field "$OUT" "d['state'], d['changed']")" = "registered True" ] || fail "first register: $OUT"
before=$(catalogue_fingerprint)
run_mlc 0 register m:1
[ "$OUT" = "m:1 is already registered; nothing changed" ] || fail "register again: $OUT"
run_mlc 0 --json register m:1 --description "first" --tag owner=ci
validate register
[ "$(json_field "$OUT" "d['state'], d['changed'], d['description']")" = "registered False first" ] \
  || fail "register again with the same description and tag: $OUT"
[ "$before" = "$(catalogue_fingerprint)" ] || fail "registering again must record nothing"
expect_error 6 "m:1 is already registered; register would change its description, tag 'owner': use mlc edit" \
  register m:1 --description "other" --tag owner=someone
[ "$before" = "$(catalogue_fingerprint)" ] || fail "a refused register must record nothing"
mlc -q deploy m:1 --target staging > /dev/null
run_mlc 0 --json register m:1
validate register
[ "$(json_field "$OUT" "d['state'], d['changed']")" = "deployed False" ] || fail "register of a deployed version: $OUT"
run_mlc 0 register m:1
[ "$OUT" = "m:1 is already registered (deployed); nothing changed" ] || fail "register a deployed version: $OUT"
ok "register of a registered or deployed version exits 0 and changes nothing; new metadata is refused"

# --- export into a directory, one manifest per model file --------------------------------------
run_mlc 0 --json export m:1 --out "$WORK/dir/"
validate export
[ "$(json_field "$OUT" "d['model_file'], d['manifest_file']")" = "$WORK/dir/m-v1.pt $WORK/dir/m-v1.manifest.json" ] \
  || fail "export --out DIR/: $OUT"
run_mlc 0 export m:2 --out "$WORK/dir"
[ -f "$WORK/dir/m-v2.pt" ] && [ -f "$WORK/dir/m-v2.manifest.json" ] || fail "export --out DIR (existing): $(ls "$WORK/dir")"
[ "$(json_field "$(cat "$WORK/dir/m-v1.manifest.json")" "d['versions'], d['model_file']['sha256']")" \
  = "['1'] $(sha256sum "$WORK/dir/m-v1.pt" | cut -d' ' -f1)" ] || fail "m-v1.manifest.json is not m:1's"
[ "$(json_field "$(cat "$WORK/dir/m-v2.manifest.json")" "d['versions'], d['model_file']['sha256']")" \
  = "['2'] $(sha256sum "$WORK/dir/m-v2.pt" | cut -d' ' -f1)" ] || fail "m-v2.manifest.json is not m:2's"
ok "export --out DIR/ and --out DIR write DIR/NAME-vVERSION.pt with NAME-vVERSION.manifest.json"

mlc -q export m:1 --out "$WORK/same/a.pt" > /dev/null
mlc -q export m:2 --out "$WORK/same/b.pt" > /dev/null
[ "$(ls "$WORK/same" | tr '\n' ' ')" = "a.manifest.json a.pt b.manifest.json b.pt " ] || fail "two exports: $(ls "$WORK/same")"
[ "$(json_field "$(cat "$WORK/same/a.manifest.json")" "d['versions']")" = "['1']" ] || fail "a.manifest.json overwritten"
[ "$(json_field "$(cat "$WORK/same/b.manifest.json")" "d['versions']")" = "['2']" ] || fail "b.manifest.json"
before=$(catalogue_fingerprint)
expect_error 2 "--out $WORK/same/x.manifest.json: names ending in .manifest.json are for the manifest" \
  export m:1 --out "$WORK/same/x.manifest.json"
[ "$before" = "$(catalogue_fingerprint)" ] && [ ! -e "$WORK/same/x.manifest.json" ] || fail "refused export changed something"
a_manifest=$(sha256sum < "$WORK/same/a.manifest.json")
expect_error 2 "--out $WORK/same/a.torchscript: a.manifest.json is there already and describes another model file" \
  export m:2 --out "$WORK/same/a.torchscript"
[ "$(sha256sum < "$WORK/same/a.manifest.json")" = "$a_manifest" ] && [ ! -e "$WORK/same/a.torchscript" ] \
  || fail "an export beside a.pt took its manifest"
run_mlc 0 export m:1 --out "$WORK/same/a.pt"   # the same file again: its own manifest is replaced
ok "two exports into one directory keep their own manifests; one whose manifest name another file's holds is refused"

# --- helpful mistakes ------------------------------------------------------------------------
before=$(catalogue_fingerprint)
expect_error 2 "unknown command 'lst'; did you mean 'list'?" lst
[ "$ERR" = "mlc: error: unknown command 'lst'; did you mean 'list'?" ] || fail "exactly: $ERR"
expect_error 2 "unknown command 'hist'; did you mean 'history'?" hist m
expect_error 2 "unknown command 'xyzzy'" xyzzy
[ "$ERR" = "mlc: error: unknown command 'xyzzy'" ] || fail "no suggestion for a word far from every command: $ERR"
expect_error 2 "unknown option '--epoch' of 'mlc train'; did you mean '--epochs'?" train "$config" --name m --epoch 3
expect_error 2 "unknown option '--jsn' of 'mlc list'; did you mean '--json'?" --jsn list
expect_error 2 "unknown option '--froce' of 'mlc retire'; did you mean '--force'?" retire m:2 --froce
ok "unknown commands and options name the word and suggest the nearest"

expect_error 2 "'-x:1' is not a reference: it starts with '-', so it reads as an option of 'mlc show' (a name that starts with '-' goes after '--': mlc show -- -x:1)" show -x:1
expect_error 2 "'-m@production' is not a reference: it starts with '-'" deploy -m@production --target p
expect_error 4 "no model named '-x'" show -- -x:1
ok "a reference with a leading dash is named as such"

cp "$config" "$WORK/typo.json"
sed -i 's/"learning_rate"/"lr"/' "$WORK/typo.json"
expect_error 5 "typo.json: training.optimizer: unknown key 'lr'; did you mean 'learning_rate'?" train "$WORK/typo.json" --name m
expect_error 5 "training: unknown key 'epoch'; did you mean 'epochs'?" train "$config" --name m --set training.epoch=3
expect_error 5 "training.optimizer: unknown key 'lr'; did you mean 'learning_rate'?" train "$config" --name m --set training.optimizer.lr=0.1
[ "$before" = "$(catalogue_fingerprint)" ] || fail "a mistake changed the catalogue"
ok "an unknown config key suggests the nearest known one"

# --- retire --force says which targets it empties; --rollback puts back ------------------------
for v in 2 3 4; do mlc -q register "m:$v" > /dev/null; done
mlc -q deploy m:1 --target production > /dev/null
mlc -q deploy m:2 --target production > /dev/null
mlc -q deploy m:2 --target canary > /dev/null
mlc -q deploy m:3 --target edge > /dev/null

before=$(catalogue_fingerprint)
expect_error 2 "retire: --rollback goes with --force" retire m:2 --rollback
expect_error 6 "use --force" retire m:2
[ "$before" = "$(catalogue_fingerprint)" ] || fail "a refused retire changed something"

run_mlc 0 retire m:3 --force
[ "$OUT" = "m:3 retired and taken off edge
edge now holds no version of m (mlc rollback m --target edge puts back the one it held before, if any)" ] \
  || fail "retire --force, human: $OUT"
[ ! -e "$MLC_HOME/deployments/edge/m" ] || fail "edge still has a directory"
ok "retire --force says which targets it empties"

run_mlc 0 --json retire m:2 --force --rollback --reason "bad outputs"
validate retire
json_field "$OUT" "d['removed_from'], d['emptied'], [(r['target'], r['version']['version'], r['version']['state']) for r in d['rolled_back']]" \
  | grep -qx "\['canary', 'production'\] \['canary'\] \[('production', 1, 'deployed')\]" \
  || fail "retire --force --rollback, json: $OUT"
m1_model=$(json_field "$(mlc --json show m:1)" "d['artifacts']['model_sha256']")
[ "$(sha256sum "$MLC_HOME/deployments/production/m/model.pt" | cut -d' ' -f1)" = "$m1_model" ] \
  || fail "production's directory does not hold m:1's model"
[ ! -e "$MLC_HOME/deployments/canary/m" ] || fail "canary still has a directory"
[ -z "$(ls -A "$MLC_HOME/deployments/production" | grep -v '^m$')" ] || fail "leftovers: $(ls -A "$MLC_HOME/deployments/production")"
run_mlc 0 --json show m@production
[ "$(json_field "$OUT" "d['version'], d['state']")" = "1 deployed" ] || fail "production should hold m:1: $OUT"
run_mlc 0 --json history m --target production
validate history-target
json_field "$OUT" "[(c['kind'], c['version']) for c in d['changes']][-2:]" \
  | grep -qx "\[('remove', None), ('rollback', 1)\]" || fail "production's log: $OUT"
json_field "$OUT" "d['changes'][-1]['reason']" | grep -qx "rolled back on production from m:2 (retired) to m:1" \
  || fail "the log's reason: $OUT"
run_mlc 0 --json history m:2
[ "$(json_field "$OUT" "[e['reason'] for e in d['history'] if e['to'] == 'retired'][0]")" \
  = "bad outputs (forced: taken off canary, production; production rolled back to m:1)" ] || fail "m:2's history: $OUT"
run_mlc 0 --json history m:1
[ "$(json_field "$OUT" "d['history'][-1]['reason'], d['history'][-1]['to'], d['history'][-1]['target']")" \
  = "rolled back on production from m:2 (retired) to m:1 deployed production" ] || fail "m:1's history: $OUT"
ok "retire --force --rollback puts back production's previous version in the same transaction"

run_mlc 0 retire m:1 --force --rollback
[ "$OUT" = "m:1 retired and taken off production, staging
production now holds no version of m: it held no earlier version that is not retired
staging now holds no version of m: it held no earlier version that is not retired" ] \
  || fail "retire --rollback with nothing earlier: $OUT"
[ ! -e "$MLC_HOME/deployments/production/m" ] || fail "production still has a directory"
run_mlc 0 --json verify
[ "$(json_field "$OUT" "len(d['problems'])")" = 0 ] || fail "verify after the retires: $OUT"
ok "retire --force --rollback leaves a target with no earlier version empty and says so"

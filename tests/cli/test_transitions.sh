#!/usr/bin/env bash
# Every illegal transition is refused (exit 6) with one line naming the version and its state,
# and changes nothing; unknown models and versions exit 4; a failing gate exits 3.
source "$(dirname "$0")/lib.sh"
config=$(wine_config)
mlc -q train "$config" --name m > /dev/null   # m:1 trained
before=$(catalogue_fingerprint)
unchanged() { [ "$(catalogue_fingerprint)" = "$before" ] || fail "$1 changed the catalogue"; }

expect_error 6 "cannot export m:1: it is trained; only an evaluated version can be exported" export m:1 --out x.pt
[ ! -e x.pt ] || fail "a refused export wrote a file"
expect_error 6 "cannot register m:1: it is trained" register m:1
expect_error 6 "cannot deploy m:1: it is trained" deploy m:1 --target prod
unchanged "refused transitions of a trained version"
ok "trained: export, register and deploy refused"

expect_error 4 "no model named 'nope'" show nope
expect_error 4 "model 'm' has no version 9" eval m:9
expect_error 4 "model 'm' has no version deployed to 'prod'" show m@prod
expect_error 2 "reference 'm:x'" show m:x
expect_error 2 "unknown state 'gone'" list --state gone
ok "unknown models, versions, targets and bad references"

run_mlc 3 --json eval m:1 --gate 'accuracy>=1.01' --gate 'loss<100'
validate eval
json_field "$OUT" "d['state'], d['passed'], [g['passed'] for g in d['gates']]" | grep -qx "trained False \[False, True\]" \
  || fail "failed gate output: $OUT"
case "$ERR" in *"quality gate failed for m:1"*) ;; *) fail "gate stderr: $ERR" ;; esac
run_mlc 0 --json show m:1
json_field "$OUT" "d['state'], d['evaluation']['passed'], d['evaluation']['metrics']['accuracy'] > 0" | grep -qx "trained False True" \
  || fail "a failed gate records the metrics and leaves the state: $OUT"
expect_error 2 "--gate 'f1>0.5': unknown metric 'f1'" eval m:1 --gate 'f1>0.5'
expect_error 2 "--gate 'accuracy=>0.5'" eval m:1 --gate 'accuracy=>0.5'
ok "a failing quality gate exits 3, records metrics, leaves the state"

take_through m:1 evaluated
expect_error 6 "cannot register m:1: it is evaluated; only an exported version can be registered" register m:1
expect_error 6 "cannot deploy m:1: it is evaluated" deploy m:1 --target prod
before=$(catalogue_fingerprint)
touch "$WORK/a-file"
expect_error 5 "--out $WORK/a-file/model.pt: cannot write" export m:1 --out "$WORK/a-file/model.pt"
expect_error 2 "names ending in .manifest.json are for the manifest" export m:1 --out "$WORK/o/m.manifest.json"
run_mlc 0 --json show m:1
[ "$(json_field "$OUT" "d['state']")" = evaluated ] || fail "a failed export must leave the version evaluated: $OUT"
ok "an export whose --out cannot be written records nothing"

mlc -q export m:1 --out "$WORK/m1.pt" > /dev/null
expect_error 6 "cannot deploy m:1: it is exported; only a registered version can be deployed" deploy m:1 --target prod
mlc -q register m:1 > /dev/null
run_mlc 0 register m:1
[ "$OUT" = "m:1 is already registered; nothing changed" ] || fail "register twice: $OUT"
ok "each step needs the one before it"

run_mlc 0 export m:1 --out "$WORK/again.pt"
cmp -s "$WORK/m1.pt" "$WORK/again.pt" || fail "re-export must give the stored bytes"
ok "exporting again copies the same stored file"

mlc -q deploy m:1 --target staging > /dev/null
mlc -q deploy m:1 --target prod > /dev/null
before=$(catalogue_fingerprint)
expect_error 6 "cannot retire m:1: it is deployed; use --force" retire m:1
unchanged "a refused retire"
[ -d "$MLC_HOME/deployments/prod/m" ] || fail "deployment vanished"
run_mlc 0 --json retire m:1 --force --reason "bad data found"
json_field "$OUT" "d['state'], d['removed_from']" | grep -qx "retired \['prod', 'staging'\]" || fail "forced retire: $OUT"
[ ! -e "$MLC_HOME/deployments/prod/m" ] && [ ! -e "$MLC_HOME/deployments/staging/m" ] || fail "forced retire left deployments"
run_mlc 0 --json history m:1
json_field "$OUT" "d['history'][-1]['reason']" | grep -qx "bad data found (forced: taken off prod, staging)" || fail "history: $OUT"
ok "retiring a deployed version needs --force, which takes it off its targets and says so"

expect_error 6 "cannot retire m:1: it is retired" retire m:1
expect_error 6 "cannot evaluate m:1: it is retired" eval m:1
expect_error 6 "cannot export m:1: it is retired" export m:1
expect_error 6 "cannot deploy m:1: it is retired" deploy m:1 --target prod
ok "retired is final"

expect_error 5 "target '../x'" deploy m:1 --target ../x

mlc -q train "$config" --name n > /dev/null
take_through n:1 registered
sha=$(mlc --json show n:1 | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)['artifacts']['model_sha256'])")
chmod u+w "$MLC_HOME/artifacts/sha256/${sha:0:2}/$sha"
printf 'tampered' >> "$MLC_HOME/artifacts/sha256/${sha:0:2}/$sha"
expect_error 7 "is corrupt: its sha256 is" deploy n:1 --target prod
[ ! -e "$MLC_HOME/deployments/prod/n" ] || fail "a corrupt artifact was deployed"
ok "deploy verifies the artifact's sha256 and refuses a corrupt one (exit 7)"
ok "target names are checked like model names"

#!/usr/bin/env bash
# Bring your own model (register --artifact), aliases (NAME@ALIAS) and metadata edits: each
# change recorded in the history with actor, host, command and reason; every unhappy path exits
# with its documented code and one line naming what is at fault.
source "$(dirname "$0")/lib.sh"
"$PYTHON" "$MLC_SOURCE_DIR/tests/cli/make_torchscript.py" a.pt b.pt
"$PYTHON" "$MLC_SOURCE_DIR/tests/cli/make_torchscript.py" two.pt --two-inputs
printf 'not a model' > bad.pt

expect_error 4 "cannot read $WORK/missing.pt" register --artifact missing.pt --name byo
expect_error 5 "$WORK/bad.pt: libtorch cannot load it as TorchScript" register --artifact bad.pt --name byo
[ ! -e "$MLC_HOME" ] || fail "a refused register --artifact created MLC_HOME"
expect_error 2 "register --artifact needs --name NAME" register --artifact a.pt
expect_error 2 "give either REF or --artifact FILE, not both" register byo:1 --artifact a.pt --name byo
expect_error 5 "model name 'b/y'" register --artifact a.pt --name b/y
ok "register --artifact refuses a missing file, a file libtorch cannot load and bad names"

cat > manifest.json <<'JSON'
{"inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 4]}],
 "outputs": [{"name": "logits", "datatype": "FP32", "shape": [-1, 3]}],
 "labels": ["a", "b", "c"], "metrics": {"accuracy": 0.93, "f1": 0.9}}
JSON
run_mlc 0 --json register --artifact a.pt --name byo --manifest manifest.json --description "from Python" --tag team=ml
validate register-artifact
json_field "$OUT" "d['version'], d['state'], d['origin'], d['tags']['team'], d['model_sha256'] == '$(sha256sum a.pt | cut -d' ' -f1)'" \
  | grep -qx "1 registered artifact ml True" || fail "register --artifact: $OUT"
json_field "$OUT" "d['manifest']['inputs'][0]['shape'], d['manifest']['source']['torchscript']['input_names']" \
  | grep -qx "\[-1, 4\] \['x'\]" || fail "stored manifest: $OUT"
run_mlc 0 --json show byo:1
validate show
json_field "$OUT" "d['origin'], d['training'], d['config'], d['artifacts']['checkpoint_sha256'], d['evaluation']['origin'], d['evaluation']['metrics']['accuracy'], d['lineage']['source_file']" \
  | grep -qx "artifact None None None manifest 0.93 $WORK/a.pt" || fail "show of an artifact version: $OUT"
run_mlc 0 show byo:1
case "$OUT" in *"registered from $WORK/a.pt"*"accuracy 0.9300"*"(self-reported by its manifest, not measured by mlc"*) ;; *) fail "human show: $OUT" ;; esac
run_mlc 0 --json list byo; validate list
run_mlc 0 --json register --artifact b.pt --name byo; validate register-artifact
[ "$(json_field "$OUT" "d['version'], d['manifest']['inputs']")" = "2 []" ] || fail "without a manifest: $OUT"
ok "register --artifact: a TorchScript file becomes a registered version; show and list cope with it"

before=$(catalogue_fingerprint)
echo '{"inputs": [{"name": "x", "datatype": "FLOAT", "shape": [-1, 4]}]}' > bad-manifest.json
expect_error 5 "$WORK/bad-manifest.json: inputs[0].datatype" register --artifact a.pt --name byo --manifest bad-manifest.json
echo '{"input": []}' > typo-manifest.json
expect_error 5 "$WORK/typo-manifest.json: (root): unknown key 'input'" register --artifact a.pt --name byo --manifest typo-manifest.json
expect_error 5 "inputs: 1 tensors, but forward() of $WORK/two.pt takes 2" register --artifact two.pt --name byo --manifest manifest.json
echo "{\"model_file\": {\"sha256\": \"$(sha256sum b.pt | cut -d' ' -f1)\"}}" > other-manifest.json
expect_error 5 "model_file.sha256 is $(sha256sum b.pt | cut -d' ' -f1), but $WORK/a.pt hashes to" register --artifact a.pt --name byo --manifest other-manifest.json
expect_error 4 "cannot read $WORK/nope.json" register --artifact a.pt --name byo --manifest nope.json
[ "$(catalogue_fingerprint)" = "$before" ] || fail "a refused manifest changed the catalogue"
ok "a manifest that fails its schema (naming the key) or contradicts the file is refused; nothing recorded"

expect_error 6 "byo:1 was registered from a TorchScript file: it has no checkpoint" eval byo:1
expect_error 6 "byo:1 was registered from a TorchScript file" predict byo:1
run_mlc 0 export byo:1 --out "$WORK/out/byo.pt"
cmp -s a.pt "$WORK/out/byo.pt" || fail "export of an artifact version must hand out the registered bytes"
run_mlc 0 --json deploy byo:1 --target staging; validate deploy
cmp -s a.pt "$MLC_HOME/deployments/staging/byo/model.pt" || fail "deployed model.pt is not the registered file"
"$PYTHON" -c "import torch,sys; m=torch.jit.load(sys.argv[1]); assert m(torch.zeros(2,4)).shape == (2,3)" \
  "$MLC_HOME/deployments/staging/byo/model.pt" || fail "the deployed artifact does not run in Python"
ok "an artifact version cannot be evaluated, but exports, deploys and runs"

run_mlc 0 --json alias byo champion 1; validate alias
json_field "$OUT" "d['version']['version'], d['previous'], d['changed'], d['version']['aliases']" | grep -qx "1 None True \['champion'\]" || fail "alias: $OUT"
run_mlc 0 --json show byo@champion; validate show
[ "$(json_field "$OUT" "d['version']")" = 1 ] || fail "byo@champion: $OUT"
run_mlc 0 --json alias byo champion 2; validate alias
[ "$(json_field "$OUT" "d['version']['version'], d['previous']['version']")" = "2 1" ] || fail "moving an alias: $OUT"
run_mlc 0 --json alias byo champion 2
[ "$(json_field "$OUT" "d['changed']")" = False ] || fail "setting an alias to what it names: $OUT"
run_mlc 0 --json deploy byo@champion --target canary; validate deploy
[ "$(json_field "$OUT" "d['version']")" = 2 ] || fail "deploy NAME@ALIAS: $OUT"
run_mlc 0 --json history byo:1; validate history
json_field "$OUT" "[(h['event'], h['detail']) for h in d['history'] if h['event']=='alias']" \
  | grep -qx "\[('alias', {'alias': 'champion', 'from_version': None, 'to_version': 1}), ('alias', {'alias': 'champion', 'from_version': 1, 'to_version': 2})\]" \
  || fail "alias rows of byo:1: $OUT"
json_field "$OUT" "all(h['host'] != '' and h['actor'] == 'cli-test' for h in d['history']), d['history'][-1]['command']" \
  | grep -qx "True mlc --json alias byo champion 2" || fail "history rows need actor, host and command: $OUT"
ok "alias NAME ALIAS VERSION: NAME@ALIAS resolves, moves are recorded on both versions"

expect_error 4 "model 'byo' has no version deployed to 'nope' and no alias 'nope'" show byo@nope
expect_error 4 "model 'byo' has no alias 'nope'" alias byo nope --remove
expect_error 4 "model 'byo' has no version 9" alias byo champion 9
expect_error 4 "no model named 'zzz'" alias zzz champion 1
expect_error 5 "alias 'staging': model 'byo' has a target of that name" alias byo staging 1
expect_error 5 "target 'champion': model 'byo' has an alias of that name" deploy byo:1 --target champion
expect_error 2 "give either VERSION (to set it) or --remove" alias byo champion
expect_error 2 "give either VERSION (to set it) or --remove" alias byo champion 1 --remove
expect_error 5 "alias 'a b'" alias byo 'a b' 1
run_mlc 0 --json register --artifact a.pt --name byo
mlc -q retire byo:3 > /dev/null
expect_error 6 "cannot point alias 'old' at byo:3: it is retired" alias byo old 3
run_mlc 0 --json alias byo champion --remove --reason "no champion for now"; validate alias
[ "$(json_field "$OUT" "d['version'], d['previous']['version']")" = "None 2" ] || fail "alias --remove: $OUT"
run_mlc 0 --json history byo:2
[ "$(json_field "$OUT" "d['history'][-1]['reason'], d['history'][-1]['detail']['to_version']")" = "no champion for now None" ] \
  || fail "alias removal row: $OUT"
ok "unknown aliases, aliases clashing with targets, retired versions and bad usage are refused"

run_mlc 0 --json edit byo:1 --description "a linear model" --tag team=research --tag stage=beta --reason "reviewed"
validate edit
json_field "$OUT" "d['description'], d['tags'], d['changes']['description']['from'], d['changed']" \
  | grep -qx "a linear model {'stage': 'beta', 'team': 'research'} from Python True" || fail "edit: $OUT"
run_mlc 0 --json edit byo:1 --untag stage; validate edit
[ "$(json_field "$OUT" "d['tags']")" = "{'team': 'research'}" ] || fail "untag: $OUT"
run_mlc 0 --json edit byo:1 --tag team=research; validate edit
[ "$(json_field "$OUT" "d['changed']")" = False ] || fail "an edit that changes nothing: $OUT"
run_mlc 0 --json history byo:1
json_field "$OUT" "[(h['reason'], h['detail']['tags_set'], h['detail']['tags_removed']) for h in d['history'] if h['event']=='metadata']" \
  | grep -qx "\[('reviewed', {'stage': 'beta', 'team': 'research'}, \[\]), ('metadata edited', {}, \['stage'\])\]" \
  || fail "metadata rows: $OUT"
expect_error 4 "byo:1 has no tag 'nope'" edit byo:1 --untag nope
expect_error 2 "edit: nothing to change" edit byo:1
expect_error 2 "--tag 'x': expected KEY=VALUE" edit byo:1 --tag x
expect_error 2 "tag 'k' is both set (--tag) and removed (--untag)" edit byo:1 --tag k=1 --untag k
ok "edit: description and tags after registration, each change a metadata row in the history"

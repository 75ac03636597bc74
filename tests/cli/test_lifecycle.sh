#!/usr/bin/env bash
# The whole life of a model on a slice of Fashion-MNIST: train -> eval -> export -> register ->
# deploy (staging, production) -> a second version replaces it -> retire; plus the Python
# interop check of the exported TorchScript file.
source "$(dirname "$0")/lib.sh"
config=$(tiny_fmnist_config)

run_mlc 0 --json train "$config" --name fmnist
validate train
[ "$(json_field "$OUT" "d['model'], d['version'], d['state']")" = "fmnist 1 trained" ] || fail "train output: $OUT"
[ "$(json_field "$OUT" "len(d['metrics']['epochs'])")" = 2 ] || fail "expected 2 epochs: $OUT"
json_field "$OUT" "d['samples_per_second'] > 0 and d['train_seconds'] > 0" | grep -qx True || fail "timings: $OUT"
json_field "$OUT" "d['train_samples'] == 1800 and d['validation_samples'] == 200" | grep -qx True \
  || fail "a 10% validation split of 2000 images: $OUT"
ok "train records version 1 with its learning curve"

run_mlc 0 --json show fmnist:1
validate show
json_field "$OUT" "sorted(f['role'] for f in d['data_files'])" | grep -q "'train_images'" || fail "fingerprints: $OUT"
expected_sha=$(sha256sum "$MLC_FASHION_MNIST_DIR/train-images-idx3-ubyte.gz" | cut -d' ' -f1)
json_field "$OUT" "[f['sha256'] for f in d['data_files'] if f['role']=='train_images'][0]" | grep -qx "$expected_sha" \
  || fail "train_images fingerprint is not the file's sha256"
checkpoint=$(json_field "$OUT" "d['artifacts']['checkpoint_sha256']")
[ -f "$MLC_HOME/artifacts/sha256/${checkpoint:0:2}/$checkpoint" ] || fail "checkpoint not in the store"
[ "$(sha256sum "$MLC_HOME/artifacts/sha256/${checkpoint:0:2}/$checkpoint" | cut -d' ' -f1)" = "$checkpoint" ] \
  || fail "the store names the checkpoint by a sha256 that is not its own"
ok "show: data fingerprints and a content-addressed checkpoint"

run_mlc 0 --json eval fmnist --gate 'accuracy>=0.5'
validate eval
json_field "$OUT" "d['state'], d['passed'], d['samples'], d['metrics']['accuracy'] > 0.5" | grep -qx "evaluated True 500 True" \
  || fail "eval output: $OUT"
ok "eval on the test split moves the version to evaluated"

run_mlc 0 --json export fmnist --out "$WORK/export/model.pt"
validate export
[ -f "$WORK/export/model.pt" ] && [ -f "$WORK/export/model.manifest.json" ] || fail "export files missing"
"$PYTHON" "$MLC_SOURCE_DIR/tests/cli/validate_json.py" manifest "$WORK/export/model.manifest.json" > /dev/null
manifest_sha=$(json_field "$(cat "$WORK/export/model.manifest.json")" "d['model_file']['sha256']")
[ "$manifest_sha" = "$(sha256sum "$WORK/export/model.pt" | cut -d' ' -f1)" ] || fail "manifest sha256 is not the model file's"
json_field "$(cat "$WORK/export/model.manifest.json")" "d['inputs'][0]['shape'], d['outputs'][0]['shape'], d['inputs'][0]['datatype']" \
  | grep -qx "\[-1, 28, 28\] \[-1, 10\] FP32" || fail "manifest inputs/outputs: $(cat "$WORK/export/model.manifest.json")"
ok "export writes TorchScript and a manifest with OIP metadata and the file's sha256"

run_mlc 0 --json predict fmnist --limit 100
validate predict
printf '%s' "$OUT" > "$WORK/predictions.json"
"$PYTHON" "$MLC_SOURCE_DIR/tests/python/compare_torchscript.py" "$WORK/export/model.pt" \
  "$MLC_FASHION_MNIST_DIR/t10k-images-idx3-ubyte.gz" "$WORK/predictions.json" 100
ok "Python's torch.jit.load gives mlc's outputs within 1e-5 on 100 test images"

run_mlc 0 --json register fmnist --description "tiny slice" --tag owner=ci --tag data=fmnist
validate register
json_field "$OUT" "d['state'], d['tags']['owner'], d['description']" | grep -qx "registered ci tiny slice" || fail "register: $OUT"
ok "register records description and tags"

run_mlc 0 --json deploy fmnist:1 --target staging
validate deploy
[ "$(cat "$MLC_HOME/deployments/staging/fmnist/model.pt" | sha256sum | cut -d' ' -f1)" = "$manifest_sha" ] \
  || fail "deployed model.pt is not the exported file"
[ -f "$MLC_HOME/deployments/staging/fmnist/manifest.json" ] || fail "no manifest deployed"
run_mlc 0 deploy fmnist@staging --target production
run_mlc 0 --json show fmnist@production
json_field "$OUT" "d['version'], d['state'], d['targets']" | grep -qx "1 deployed \['production', 'staging'\]" || fail "after promotion: $OUT"
ok "deploy places the model on staging, then from staging to production"

run_mlc 0 -q train "$config" --name fmnist --seed 8
take_through fmnist:2 registered
run_mlc 0 --json deploy fmnist:2 --target staging
json_field "$OUT" "d['replaced']['version'], d['replaced']['state'], d['replaced']['targets']" \
  | grep -qx "1 deployed \['production'\]" || fail "v1 still stands on production: $OUT"
run_mlc 0 --json deploy fmnist:2 --target production
json_field "$OUT" "d['replaced']['version'], d['replaced']['state']" | grep -qx "1 registered" \
  || fail "v1 should be back to registered: $OUT"
[ "$(ls -A "$MLC_HOME/deployments/production/")" = fmnist ] || fail "leftovers beside the deployment: $(ls -A "$MLC_HOME/deployments/production/")"
run_mlc 0 --json show fmnist@production
[ "$(json_field "$OUT" "d['version']")" = 2 ] || fail "production should hold v2"
ok "a new version replaces the old one on each target; the old one goes back to registered"

run_mlc 0 --json deploy fmnist:2 --target production
json_field "$OUT" "d['changed']" | grep -qx False || fail "redeploying the same version should change nothing"
ok "deploying the version a target already holds is a no-op"

rm -rf "$MLC_HOME/deployments/production/fmnist"
run_mlc 0 --json deploy fmnist:2 --target production
json_field "$OUT" "d['changed']" | grep -qx True || fail "missing files must be placed again: $OUT"
[ -f "$MLC_HOME/deployments/production/fmnist/model.pt" ] || fail "model.pt not placed again"
ok "deploying again repairs a deployment directory whose files went missing"

run_mlc 0 --json retire fmnist:1 --reason "replaced by v2"
validate retire
[ "$(json_field "$OUT" "d['state']")" = retired ] || fail "retire: $OUT"
expect_error 6 "cannot deploy fmnist:1: it is retired" deploy fmnist:1 --target staging
ok "a retired version can never be deployed again"

run_mlc 0 --json history fmnist:1
validate history
json_field "$OUT" "' '.join(str(h['from'])+'>'+h['to'] for h in d['history'] if h['event'] == 'transition')" \
  | grep -qx "None>trained trained>evaluated evaluated>exported exported>registered registered>deployed deployed>deployed deployed>deployed deployed>registered registered>retired" \
  || fail "history of v1: $OUT"
json_field "$OUT" "[(h['event'], h['detail']['on_test_split'], len(h['detail']['data_fingerprint']), h['reason'].startswith('on its test split, ')) for h in d['history'] if h['event'] == 'evaluation']" \
  | grep -qx "\[('evaluation', True, 64, True)\]" || fail "the evaluation is an event of the history: $OUT"
json_field "$OUT" "all(h['actor']=='cli-test' and h['at'].endswith('Z') for h in d['history'])" | grep -qx True || fail "actor/time: $OUT"
json_field "$OUT" "d['history'][-1]['reason']" | grep -qx "replaced by v2" || fail "reason: $OUT"
run_mlc 0 history fmnist
[ "$(printf '%s\n' "$OUT" | grep -c 'fmnist:2')" -ge 5 ] || fail "history NAME covers every version: $OUT"
ok "history lists every transition with UTC time, actor and reason"

run_mlc 0 --json list --state registered
validate list
[ "$(json_field "$OUT" "len(d['versions'])")" = 0 ] || fail "no registered versions expected: $OUT"
run_mlc 0 --json list fmnist
[ "$(json_field "$OUT" "[v['state'] for v in d['versions']]")" = "['retired', 'deployed']" ] || fail "list: $OUT"
run_mlc 0 list
grep -q "fmnist .* 2  deployed" <<< "$OUT" || fail "human list: $OUT"
ok "list filters by name and state"

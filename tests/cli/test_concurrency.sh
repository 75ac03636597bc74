#!/usr/bin/env bash
# Parallel mlc processes on one catalogue: no version number lost or given twice, a target holds
# exactly one version afterwards, and its directory holds that version's file.
source "$(dirname "$0")/lib.sh"
config=$(wine_config)
sed -i 's/"epochs": 30/"epochs": 2/' "$config"

pids=()
for _ in 1 2 3 4; do mlc -q train "$config" --name w > /dev/null & pids+=($!); done
for pid in "${pids[@]}"; do wait "$pid" || fail "a parallel train failed"; done
run_mlc 0 --json list w
[ "$(json_field "$OUT" "sorted(v['version'] for v in d['versions'])")" = "[1, 2, 3, 4]" ] || fail "versions: $OUT"
ok "4 parallel trains get versions 1-4"

mlc -q eval w:1 > /dev/null
pids=()
for i in 1 2 3; do mlc -q export w:1 --out "$WORK/parallel-$i/model.pt" > /dev/null & pids+=($!); done
for pid in "${pids[@]}"; do wait "$pid" || fail "a parallel export failed"; done
cmp -s "$WORK/parallel-1/model.pt" "$WORK/parallel-2/model.pt" && cmp -s "$WORK/parallel-1/model.manifest.json" "$WORK/parallel-3/model.manifest.json" \
  || fail "parallel exports of one version must hand out the same files"
run_mlc 0 --json history w:1
[ "$(json_field "$OUT" "sum(1 for h in d['history'] if h['to']=='exported')")" = 1 ] || fail "one export transition expected: $OUT"
ok "3 parallel first exports of one version record one export and hand out the same files"

mlc -q register w:1 > /dev/null
for v in 2 3 4; do take_through "w:$v" registered; done
pids=()
for v in 1 2 3 4 1 2 3 4; do mlc -q deploy "w:$v" --target prod > /dev/null & pids+=($!); done
for pid in "${pids[@]}"; do wait "$pid" || fail "a parallel deploy failed"; done
run_mlc 0 --json list w --state deployed
[ "$(json_field "$OUT" "len(d['versions'])")" = 1 ] || fail "exactly one version must stand on prod: $OUT"
live=$(json_field "$OUT" "d['versions'][0]['version']")
run_mlc 0 --json show "w:$live"
[ "$(sha256sum "$MLC_HOME/deployments/prod/w/model.pt" | cut -d' ' -f1)" = "$(json_field "$OUT" "d['artifacts']['model_sha256']")" ] \
  || fail "the prod directory does not hold w:$live's model"
[ "$(ls -A "$MLC_HOME/deployments/prod")" = w ] || fail "leftovers: $(ls -A "$MLC_HOME/deployments/prod")"
run_mlc 0 --json history w
deploys=$(json_field "$OUT" "sum(1 for h in d['history'] if h['to']=='deployed' and h['from']=='registered')")
replaced=$(json_field "$OUT" "sum(1 for h in d['history'] if h['reason'].startswith('replaced on prod'))")
[ $((deploys - replaced)) -eq 1 ] || fail "every deploy but the last standing one must have been replaced: $deploys deploys, $replaced replaced"
ok "8 parallel deploys to one target leave one version there, with its file, and a consistent history"

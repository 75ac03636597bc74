#!/usr/bin/env bash
# mlc verify finds every mismatch between the catalogue, the store and the deployment directories
# (exit 7), finishes changes a killed process left half-done; mlc gc deletes only what nothing
# needs, and --dry-run deletes nothing.
source "$(dirname "$0")/lib.sh"
"$PYTHON" "$MLC_SOURCE_DIR/tests/cli/make_torchscript.py" a.pt b.pt
mlc -q train "$(wine_config)" --name w > /dev/null
take_through w:1 registered
mlc -q deploy w:1 --target staging > /dev/null
mlc -q register --artifact a.pt --name byo > /dev/null
mlc -q register --artifact b.pt --name byo > /dev/null
mlc -q deploy byo:1 --target production > /dev/null

run_mlc 0 --json verify; validate verify
json_field "$OUT" "d['ok'], d['integrity'], d['versions'], d['artifacts'], d['deployments'], d['problems'], d['recovered']" \
  | grep -qx "True ok 3 7 2 \[\] \[\]" || fail "verify of a sound home: $OUT"
ok "verify: a sound catalogue, store and deployments pass"

sha=$(json_field "$(mlc --json show w:1)" "d['artifacts']['checkpoint_sha256']")
stored="$MLC_HOME/artifacts/sha256/${sha:0:2}/$sha"
cp "$stored" saved; chmod u+w "$stored"; printf 'x' >> "$stored"
run_mlc 7 --json verify; validate verify
json_field "$OUT" "[(p['kind'], p['subject']) for p in d['problems']]" | grep -qx "\[('artifact_corrupt', 'w:1')\]" || fail "corrupt artifact: $OUT"
[ "$ERR" = "mlc: error: verify found 1 problem in the catalogue, the store or the deployments" ] || fail "verify stderr: $ERR"
run_mlc 7 verify
case "$OUT" in *"artifact_corrupt: $stored is corrupt: its sha256 is "*"(needed by w:1)"*) ;; *) fail "human verify: $OUT" ;; esac
case "$OUT" in *": 1 problem") ;; *) fail "human verify's summary is not singular: $OUT" ;; esac
rm "$stored"
run_mlc 7 --json verify
json_field "$OUT" "[p['kind'] for p in d['problems']]" | grep -qx "\['artifact_missing'\]" || fail "missing artifact: $OUT"
cp saved "$stored"
run_mlc 0 verify
ok "verify reports a corrupted and a missing artifact, naming the file and the versions (exit 7)"

model="$MLC_HOME/deployments/production/byo/model.pt"
printf 'tampered' > "$model"
touch "$MLC_HOME/deployments/staging/w/notes.txt"
mkdir -p "$MLC_HOME/deployments/qa/w" && touch "$MLC_HOME/deployments/qa/w/model.pt"
run_mlc 7 --json verify; validate verify
json_field "$OUT" "sorted((p['kind'], p['subject']) for p in d['problems'])" \
  | grep -qx "\[('deployment', 'production/byo'), ('deployment', 'staging/w'), ('unrecorded_deployment', 'qa/w')\]" \
  || fail "tampered deployments: $OUT"
json_field "$OUT" "[p['message'] for p in d['problems'] if p['subject']=='production/byo'][0]" \
  | grep -q "(byo:1 deployed): model.pt: sha256 is $(sha256sum "$model" | cut -d' ' -f1), the catalogue says" || fail "message: $OUT"
run_mlc 0 --json deploy byo:1 --target production
[ "$(json_field "$OUT" "d['changed']")" = True ] || fail "redeploy must repair a tampered file: $OUT"
rm "$MLC_HOME/deployments/staging/w/notes.txt"; rm -r "$MLC_HOME/deployments/qa"
run_mlc 0 verify
ok "verify reports a tampered, an extra and an unrecorded deployment file; deploy again repairs"

# What a deploy killed after swapping directories but before committing leaves: the directory
# holds the new version, the catalogue the old one, the old content beside it.
live="$MLC_HOME/deployments/production/byo"
mv "$live" "$MLC_HOME/deployments/production/.byo.new-00000000000000aa"
mkdir "$live" && cp b.pt "$live/model.pt" && cp "$MLC_HOME/deployments/production/.byo.new-00000000000000aa/manifest.json" "$live/"
mkdir "$MLC_HOME/deployments/staging/.w.new-00000000000000bb"   # killed while copying
run_mlc 0 --json verify; validate verify
json_field "$OUT" "d['ok'], len(d['recovered'])" | grep -qx "True 2" || fail "recovery: $OUT"
cmp -s a.pt "$live/model.pt" || fail "recovery must put back what the catalogue says (byo:1)"
[ -z "$(ls -A "$MLC_HOME/deployments/production" | grep -v '^byo$')" ] || fail "leftovers remain: $(ls -A "$MLC_HOME/deployments/production")"
[ ! -e "$MLC_HOME/deployments/staging/.w.new-00000000000000bb" ] || fail "staging leftover remains"
ok "verify finishes a deployment change a killed process left half-done, as the catalogue says"

mkdir .fake && printf 'orphan' > .fake/orphan
orphan_sha=$(sha256sum .fake/orphan | cut -d' ' -f1)
mkdir -p "$MLC_HOME/artifacts/sha256/${orphan_sha:0:2}"
cp .fake/orphan "$MLC_HOME/artifacts/sha256/${orphan_sha:0:2}/$orphan_sha"
printf 'half' > "$MLC_HOME/artifacts/sha256/${orphan_sha:0:2}/.$orphan_sha.tmp-0123456789abcdef"
mkdir -p "$MLC_HOME/tmp/export-dead" && printf 'x' > "$MLC_HOME/tmp/export-dead/model.pt"
before=$(catalogue_fingerprint); files_before=$(find "$MLC_HOME" -type f ! -name "catalog.db*" | sort | xargs sha256sum)
run_mlc 0 --json gc --dry-run --min-age 0; validate gc
json_field "$OUT" "d['dry_run'], sorted(r['why'] for r in d['removed'])" | grep -qx "True \['temporary', 'temporary', 'unreferenced'\]" \
  || fail "gc --dry-run: $OUT"
[ "$(find "$MLC_HOME" -type f ! -name "catalog.db*" | sort | xargs sha256sum)" = "$files_before" ] || fail "gc --dry-run deleted something"
[ "$(catalogue_fingerprint)" = "$before" ] || fail "gc --dry-run changed the catalogue"
run_mlc 0 --json gc; validate gc
[ "$(json_field "$OUT" "d['removed']")" = "[]" ] || fail "gc must keep files younger than --min-age: $OUT"
run_mlc 0 --json gc --min-age 0; validate gc
[ "$(json_field "$OUT" "len(d['removed']), d['bytes']")" = "3 11" ] || fail "gc: $OUT"
[ ! -e "$MLC_HOME/artifacts/sha256/${orphan_sha:0:2}/$orphan_sha" ] && [ ! -e "$MLC_HOME/tmp/export-dead" ] || fail "gc left garbage"
run_mlc 0 verify
ok "gc --dry-run lists and deletes nothing; gc deletes unreferenced and temporary files, not young ones"

mlc -q retire byo:1 --force > /dev/null
run_mlc 0 --json gc --min-age 0
[ "$(json_field "$OUT" "d['removed']")" = "[]" ] || fail "gc must keep a retired version's artifacts: $OUT"
run_mlc 0 --json gc --purge-retired --min-age 0 --dry-run; validate gc
[ "$(json_field "$OUT" "d['purged_versions'], len(d['removed'])")" = "['byo:1'] 2" ] || fail "purge dry run: $OUT"
run_mlc 0 --json show byo:1
[ "$(json_field "$OUT" "d['artifacts']['purged_at']")" = None ] || fail "a dry run must not mark anything"
run_mlc 0 --json gc --purge-retired --min-age 0; validate gc
json_field "$OUT" "d['purged_versions'], sorted(r['why'] for r in d['removed'])" | grep -qx "\['byo:1'\] \['retired', 'retired'\]" || fail "purge: $OUT"
run_mlc 0 --json show byo:1; validate show
[ "$(json_field "$OUT" "d['artifacts']['purged_at'] is not None")" = True ] || fail "purged_at: $OUT"
run_mlc 0 --json history byo:1; validate history
[ "$(json_field "$OUT" "d['history'][-1]['event']")" = purge ] || fail "purge history row: $OUT"
run_mlc 0 verify
ok "a retired version's artifacts are kept unless --purge-retired, which records it; verify stays clean"

#!/usr/bin/env bash
# The store and gc under hostile conditions (issue 13, items 4-6 and 13): gc racing commits, gc
# killed mid-purge, a corrupt store file, a huge --min-age, a catalogue row changed behind mlc's
# back.
source "$(dirname "$0")/lib.sh"
config=$(wine_config)
sed -i 's/"epochs": 30/"epochs": 2/' "$config"
"$PYTHON" "$MLC_SOURCE_DIR/tests/cli/make_torchscript.py" a.pt b.pt c.pt d.pt
sql() { "$PYTHON" -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()" \
  "$MLC_HOME/catalog.db" "$1"; }
query() { "$PYTHON" -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])" \
  "$MLC_HOME/catalog.db" "$1"; }

# gc_between_put_and_commit COUNT ARGS...: runs mlc ARGS while this test holds the catalogue's
# write lock; once the command has put COUNT new files into the store (and waits for the lock to
# record them), deletes them as gc --min-age 0 would under that lock, then lets the command go on.
gc_between_put_and_commit() {
  local count=$1; shift
  rm -f "$WORK/locked" "$WORK/release"
  "$PYTHON" - "$MLC_HOME/catalog.db" "$WORK/locked" "$WORK/release" <<'PY' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
deadline = time.time() + 30
while not os.path.exists(sys.argv[3]) and time.time() < deadline:
    time.sleep(0.02)
db.execute("ROLLBACK")
PY
  local holder=$!
  while [ ! -e "$WORK/locked" ]; do sleep 0.02; done
  stored() { find "$MLC_HOME/artifacts" -type f ! -name '.*' | sort; }
  local before new="" deadline=$((SECONDS + 25))
  before=$(stored)
  mlc "$@" > "$WORK/put-commit.log" 2>&1 & local command=$!
  while [ $SECONDS -lt $deadline ]; do
    new=$(comm -13 <(printf '%s\n' "$before") <(stored))
    [ "$(printf '%s' "$new" | grep -c .)" -ge "$count" ] && break
    sleep 0.02
  done
  [ "$(printf '%s' "$new" | grep -c .)" -eq "$count" ] || fail "mlc $*: expected $count new stored files, got: $new"
  printf '%s\n' "$new" | xargs rm --
  touch "$WORK/release"; wait "$holder"
  wait "$command" || fail "mlc $* failed after gc deleted its stored files: $(cat "$WORK/put-commit.log")"
  run_mlc 0 verify
}

# Item 4, deterministically: gc deletes what train, export and register put, after the put and
# before the commit; each commit puts it back under the write lock.
mlc -q train "$config" --name seed > /dev/null   # the catalogue exists before gc runs
gc_between_put_and_commit 1 -q train "$config" --name early --seed 11
mlc -q eval early:1 > /dev/null
gc_between_put_and_commit 2 -q export early:1 --out "$WORK/exports/early.pt"
gc_between_put_and_commit 1 -q register --artifact d.pt --name early-byo
ok "train, export and register put their files again if gc deleted them before the commit"

# Item 4: gc --min-age 0 in a tight loop while trains, an export and registers commit. Each commit
# must find its files in the store under the write lock (or put them again), and gc must leave the
# temporary files of live writers alone. Bounded: gc stops after 40 s whatever happens.
( end=$((SECONDS + 40))
  while [ ! -e "$WORK/stop" ] && [ $SECONDS -lt $end ]; do
    mlc -q gc --min-age 0 > /dev/null 2>> "$WORK/gc.err" || echo "exit $?" >> "$WORK/gc.failures"
  done ) &
gc_loop=$!
pids=()
for i in 1 2 3; do mlc -q train "$config" --name "t$i" > "$WORK/train-$i.log" 2>&1 & pids+=($!); done
( mlc -q eval seed:1 && mlc -q export seed:1 --out "$WORK/exports/seed.pt" ) > "$WORK/export.log" 2>&1 & pids+=($!)
for i in 1 2 3; do
  ( for round in 1 2 3; do mlc -q register --artifact a.pt --name "r$i" || exit 1; done
    mlc -q register --artifact b.pt --name "r$i" ) > "$WORK/register-$i.log" 2>&1 & pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
touch "$WORK/stop"; wait "$gc_loop"
[ "$failed" -eq 0 ] || fail "$failed commands failed beside gc: $(cat "$WORK"/train-*.log "$WORK"/export.log "$WORK"/register-*.log)"
[ ! -e "$WORK/gc.failures" ] || fail "gc failed: $(cat "$WORK/gc.err")"
run_mlc 0 --json list
[ "$(json_field "$OUT" "len(d['versions'])")" = 18 ] || fail "versions recorded: $OUT"
run_mlc 0 verify
run_mlc 0 --json gc --min-age 0
run_mlc 0 verify
[ -z "$(find "$MLC_HOME/artifacts" "$MLC_HOME/tmp" -name '.*tmp-*' -o -path "$MLC_HOME/tmp/*" | head -1)" ] \
  || fail "temporary files left: $(find "$MLC_HOME/artifacts" "$MLC_HOME/tmp")"
ok "gc --min-age 0 in a loop beside 3 trains, an export and 12 registers: every command succeeds, verify passes"

expect_error 2 "--min-age 99999999999 is out of range: 0 to 315360000 seconds (10 years)" gc --min-age 99999999999
expect_error 2 "--min-age -1 is out of range: 0 to 315360000 seconds (10 years)" gc --min-age -1
printf 'fresh' > fresh && fresh_sha=$(sha256sum fresh | cut -d' ' -f1)
mkdir -p "$MLC_HOME/artifacts/sha256/${fresh_sha:0:2}" && cp fresh "$MLC_HOME/artifacts/sha256/${fresh_sha:0:2}/$fresh_sha"
run_mlc 0 --json gc --min-age 315360000
[ "$(json_field "$OUT" "d['removed']")" = "[]" ] || fail "the largest --min-age must keep a fresh file: $OUT"
ok "--min-age is bounded (exit 2, naming the range); the largest keeps a fresh file"

# Item 6: a corrupt store file is rewritten by the next register of the same bytes.
c_sha=$(sha256sum c.pt | cut -d' ' -f1)
mlc -q register --artifact c.pt --name c > /dev/null
stored="$MLC_HOME/artifacts/sha256/${c_sha:0:2}/$c_sha"
printf 'rot' >> "$stored"
run_mlc 7 verify
mlc -q register --artifact c.pt --name c > /dev/null
cmp -s c.pt "$stored" || fail "register of the same bytes must rewrite the corrupt stored file"
run_mlc 0 verify
ok "a corrupt store file is rewritten, not reused, by a register of the same bytes"

# Item 5: what a gc --purge-retired killed before deleting leaves: the version marked purged (that
# is committed first), its files still there. verify passes; the next gc deletes them, but not a
# file another version shares. (tests/unit/core/test_gc.cpp kills it halfway.)
mlc -q retire c:1 > /dev/null
run_mlc 0 --json show c:1
manifest_sha=$(json_field "$OUT" "d['artifacts']['manifest_sha256']")
sql "UPDATE versions SET artifacts_purged_at = '2026-01-01T00:00:00.000Z'
     WHERE version = 1 AND model_id = (SELECT id FROM models WHERE name = 'c')"
run_mlc 0 --json show c:2
[ "$(json_field "$OUT" "d['artifacts']['model_sha256']")" = "$c_sha" ] || fail "c:2 shares c:1's model: $OUT"
run_mlc 0 verify
run_mlc 0 --json gc
json_field "$OUT" "[(r['path'].split('/')[-1], r['why']) for r in d['removed']]" | grep -qx "\[('$manifest_sha', 'retired')\]" \
  || fail "gc must finish the purge of c:1 (its manifest; its model is c:2's too): $OUT"
run_mlc 0 verify
ok "a purge marked but not finished: verify passes, the next gc deletes the rest, whatever its age"

# Item 13: a catalogue row changed behind mlc's back is exit 8 naming table, row and column.
seed_id=$(query "SELECT v.id FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = 'seed'")
sql "UPDATE versions SET config = '{' WHERE id = $seed_id"
expect_error 8 "the catalogue's table versions, row $seed_id, column config: invalid JSON: " show seed:1
run_mlc 0 list   # list reads no config (only summary columns); show and verify name the row
run_mlc 8 --json verify; validate verify
[ "$(json_field "$OUT" "[p['kind'] for p in d['problems']]")" = "['catalogue']" ] || fail "verify of a corrupt row: $OUT"
json_field "$OUT" "d['problems'][0]['message']" \
  | grep -q "^the catalogue's table versions, row $seed_id, column config: invalid JSON: " || fail "verify message: $OUT"
[ "$ERR" = "mlc: error: verify found 1 problem in the catalogue, the store or the deployments" ] || fail "verify stderr: $ERR"
sql "UPDATE versions SET config = '[]' WHERE id = $seed_id"
expect_error 8 "the catalogue's table versions, row $seed_id, column config: a JSON array where mlc writes a JSON object" show seed:1
sql "UPDATE versions SET config = '{}', train_samples = 'many' WHERE id = $seed_id"
run_mlc 8 --json verify
[ "$(json_field "$OUT" "[p['message'] for p in d['problems']]")" = \
  "[\"the catalogue's table versions, row $seed_id, column train_samples: a text value where mlc writes an integer\"]" ] \
  || fail "verify of a value of another type: $OUT"
ok "a catalogue row with invalid JSON, JSON or a value of another type: exit 8 naming table, row and column; verify reports it"

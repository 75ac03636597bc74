#!/usr/bin/env bash
# A catalogue made by schema version 1 (tests/data/catalog-v1, see tests/data/README.md) is
# upgraded in place by the first command that opens it, once even when several start at once;
# everything it recorded reads back; a catalogue from a newer mlc is refused.
source "$(dirname "$0")/lib.sh"
# Run against PostgreSQL (ctest's cli_test_migration_postgres), the SQLite upgrade runs as it does
# without a server, and the upgraded catalogue is then copied into the suite's PostgreSQL schema
# (catalog copy), where everything must read back the same and take new writes.
postgres_catalog=${MLC_CATALOG:-}
unset MLC_CATALOG
sql() { "$PYTHON" -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchall())" "$MLC_HOME/catalog.db" "$1"; }
cp -r "$MLC_TEST_DATA_DIR/catalog-v1" "$MLC_HOME"
[ "$(sql 'PRAGMA user_version')" = "[(1,)]" ] || fail "the fixture is not a version 1 catalogue"
before_versions=$(sql "SELECT id, model_id, version, state, created_at, description, config, model_info, lineage, checkpoint_sha256, model_sha256, manifest_sha256 FROM versions ORDER BY id")
before_history=$(sql "SELECT id, version_id, at, from_state, to_state, actor, reason, target, command FROM history ORDER BY id")

pids=()
for i in 1 2 3 4; do mlc --json list > "list-$i.json" 2> "list-$i.err" & pids+=($!); done
for pid in "${pids[@]}"; do wait "$pid" || fail "a parallel first open failed: $(cat list-*.err)"; done
OUT=$(cat list-1.json); validate list
[ "$(json_field "$OUT" "[(v['model'], v['version'], v['state']) for v in d['versions']]")" = \
  "[('other', 1, 'trained'), ('wine', 1, 'deployed'), ('wine', 2, 'deployed'), ('wine', 3, 'retired')]" ] || fail "list after upgrade: $OUT"
[ "$(sql 'PRAGMA user_version')" = "[(6,)]" ] || fail "not upgraded to version 6"
[ "$(sql 'PRAGMA integrity_check')" = "[('ok',)]" ] && [ "$(sql 'PRAGMA foreign_key_check')" = "[]" ] || fail "upgrade broke integrity"
[ "$(sql "SELECT id, model_id, version, state, created_at, description, config, model_info, lineage, checkpoint_sha256, model_sha256, manifest_sha256 FROM versions ORDER BY id")" = "$before_versions" ] \
  || fail "the upgrade changed recorded versions"
[ "$(sql "SELECT id, version_id, at, from_state, to_state, actor, reason, target, command FROM history ORDER BY id")" = "$before_history" ] \
  || fail "the upgrade changed recorded history"
[ "$(sql "SELECT DISTINCT origin, event FROM versions, history")" = "[('train', 'transition')]" ] || fail "defaults of new columns"
[ "$(sql "SELECT count(*) FROM target_log")" = "[(5,)]" ] || fail "target log rebuilt more than once or wrongly: $(sql 'SELECT * FROM target_log')"
ok "4 commands opening a version 1 catalogue at once: upgraded once, in place, every row kept"

schema_of() { "$PYTHON" -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').fetchall())" "$1"; }
"$PYTHON" "$MLC_SOURCE_DIR/tests/cli/make_torchscript.py" fresh.pt
MLC_HOME="$WORK/fresh-home" mlc -q register --artifact fresh.pt --name fresh > /dev/null
[ "$(schema_of "$WORK/fresh-home/catalog.db")" = "$(schema_of "$MLC_HOME/catalog.db")" ] \
  || fail "an upgraded catalogue and a new one differ: $(diff <(schema_of "$WORK/fresh-home/catalog.db" | tr '(' '\n') <(schema_of "$MLC_HOME/catalog.db" | tr '(' '\n'))"
[ "$(sql "SELECT count(*) FROM evaluations WHERE details IS NOT NULL")" = "[(0,)]" ] || fail "details of old evaluations"
[ "$(sql "SELECT count(*) FROM evaluations WHERE data_fingerprint IS NOT NULL OR on_test_split IS NOT NULL OR outcomes IS NOT NULL")" = "[(0,)]" ] \
  || fail "old evaluations cannot know their data fingerprint"
[ "$(sql "SELECT count(*) FROM variants")" = "[(0,)]" ] || fail "variants after the upgrade"
ok "an upgraded catalogue has the same tables, indexes and triggers as a new one (variants and their history events: version 5)"

run_mlc 0 --json show wine:1; validate show
json_field "$OUT" "d['origin'], d['description'], d['tags'], d['targets'], d['training']['train_samples'] > 0" \
  | grep -qx "train first {'data': 'wine'} \['production'\] True" || fail "show after upgrade: $OUT"
run_mlc 0 --json history wine; validate history
run_mlc 0 --json history wine --target staging; validate history-target
[ "$(json_field "$OUT" "[(c['kind'], c['version'], c['reason']) for c in d['changes']]")" = \
  "[('deploy', 1, 'deployed to staging'), ('deploy', 2, 'better')]" ] || fail "staging log rebuilt from v1 history: $OUT"
run_mlc 0 --json history wine --target canary
[ "$(json_field "$OUT" "[(c['kind'], c['version']) for c in d['changes']]")" = "[('deploy', 3), ('remove', None)]" ] \
  || fail "canary log: $OUT"
run_mlc 0 --json verify; validate verify
[ "$(json_field "$OUT" "d['ok'], d['versions'], d['deployments']")" = "True 4 2" ] || fail "verify after upgrade: $OUT"
ok "after the upgrade, show, history, the target logs rebuilt from v1's history and verify agree"

run_mlc 0 --json rollback wine --target staging; validate rollback
[ "$(json_field "$OUT" "d['version'], d['replaced']['version'], d['replaced']['state']")" = "1 2 registered" ] || fail "rollback: $OUT"
run_mlc 0 --json alias wine champion 2; validate alias
run_mlc 0 verify
ok "the upgraded catalogue takes new writes: rollback through the rebuilt log, aliases"

if [ -n "$postgres_catalog" ]; then
  run_mlc 0 --json catalog copy --to "$postgres_catalog"; validate catalog-copy
  for command in "list" "show wine:1" "history wine" "history wine --target staging" "history wine --target canary"; do
    # shellcheck disable=SC2086
    from=$(mlc --json $command) && to=$(mlc --catalog "$postgres_catalog" --json $command) || fail "$command after the copy"
    [ "$from" = "$to" ] || fail "$command differs on PostgreSQL: $(diff <(echo "$from") <(echo "$to"))"
  done
  run_mlc 0 --json --catalog "$postgres_catalog" verify; validate verify
  [ "$(json_field "$OUT" "d['ok'], d['versions'], d['deployments']")" = "True 4 2" ] || fail "verify on PostgreSQL: $OUT"
  run_mlc 0 --json --catalog "$postgres_catalog" deploy wine:2 --target staging; validate deploy
  psql -X -q -v ON_ERROR_STOP=1 -d "$postgres_catalog" -c "UPDATE mlc_schema SET version = 7"
  expect_error 8 "the catalogue has schema version 7, made by a newer mlc; this mlc understands up to version 6: upgrade mlc" \
    --catalog "$postgres_catalog" list
  ok "the upgraded catalogue copied into PostgreSQL reads back the same, verifies clean, takes writes; a newer schema there is refused"
fi

"$PYTHON" -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version = 7'); c.commit()" "$MLC_HOME/catalog.db"
expect_error 8 "the catalogue has schema version 7, made by a newer mlc; this mlc understands up to version 6: upgrade mlc" list
ok "a catalogue from a newer mlc is refused with a message that says so"

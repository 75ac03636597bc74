#!/usr/bin/env bash
# What only the PostgreSQL catalogue has (ctest runs this suite with MLC_TEST_POSTGRES, a server
# postgres_start started; lib.sh gives the suite a schema of its own in MLC_CATALOG): the server's
# triggers keep history and target log append-only, a stopped or unreachable server is exit 8
# naming host and port and changes nothing, a password reaches no output, libpq's keyword form and
# PGHOST work, a newer schema is refused, and catalog copy moves a SQLite catalogue over whole.
source "$(dirname "$0")/lib.sh"
: "${MLC_TEST_POSTGRES:?this suite needs a PostgreSQL server: ctest runs it with the postgres fixture}"
psql_catalog() { psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$MLC_CATALOG" "$@"; }
"$PYTHON" "$MLC_SOURCE_DIR/tests/cli/make_torchscript.py" a.pt b.pt > /dev/null

mlc -q register --artifact a.pt --name m > /dev/null
mlc -q register --artifact b.pt --name m > /dev/null
mlc -q deploy m:1 --target prod > /dev/null
mlc -q deploy m:2 --target prod > /dev/null
for table in history target_log; do
  for sql in "UPDATE $table SET reason = 'x'" "DELETE FROM $table" "TRUNCATE $table CASCADE"; do
    if err=$(psql_catalog -c "$sql" 2>&1); then fail "$sql was allowed"; fi
    grep -q "$table is append-only" <<< "$err" || fail "$sql: $err"
  done
done
[ "$(psql_catalog -c 'SELECT count(*) FROM history')" = 5 ] || fail "history rows lost"
run_mlc 0 --json verify; validate verify
ok "history and target_log refuse UPDATE, DELETE and TRUNCATE in the server itself, owner included"

# A server that is not there: exit 8, one line naming host and port, nothing written.
before=$(catalogue_fingerprint)
expect_error 8 "cannot reach the PostgreSQL catalogue at host 127.0.0.1 port 1 database mlc" \
  --catalog "postgresql://someone:s3cret@127.0.0.1:1/mlc" register --artifact a.pt --name m
grep -q s3cret <<< "$ERR" && fail "the password is in the error: $ERR"
expect_error 8 "cannot reach the PostgreSQL catalogue at host $WORK/no-server port 5432" \
  --catalog "postgresql:///mlc?host=$WORK/no-server&password=s3cret" deploy m:1 --target prod
grep -q s3cret <<< "$ERR" && fail "the password is in the error: $ERR"
[ "$(catalogue_fingerprint)" = "$before" ] || fail "a failed connection changed something"
expect_error 2 "'mysql://someone:***@db/mlc' is no catalogue mlc knows" --catalog "mysql://someone:s3cret@db/mlc" list
grep -q s3cret <<< "$ERR" && fail "the password is in the error: $ERR"
ok "an unreachable or stopped server: exit 8 naming host and port, no password, nothing changed"

# A password in the URL (the test server trusts the socket, so any password connects): it is
# not in the history, the --json output or any error.
with_password="postgresql://$(id -un):s3cret@/${MLC_CATALOG#postgresql:///}"
run_mlc 0 --json --catalog "$with_password" alias m champion 1; validate alias
grep -q s3cret <<< "$OUT$ERR" && fail "the password is in alias's output: $OUT"
run_mlc 0 --json --catalog "$with_password" history m
grep -q s3cret <<< "$OUT$ERR" && fail "the password is in history's output: $OUT"
grep -q "postgresql://$(id -un):\*\*\*@/" <<< "$OUT" || fail "the command line is not recorded without its password: $OUT"
[ "$(psql_catalog -c "SELECT count(*) FROM history WHERE command LIKE '%s3cret%'")" = 0 ] || fail "a password in the history table"
ok "a password in --catalog is recorded as *** and printed nowhere"

# libpq's keyword form, with PGHOST and PGPORT from the environment as libpq's tools take them.
socket_dir=$(sed -n 's/.*host=\([^&]*\).*/\1/p' <<< "$MLC_TEST_POSTGRES")
run_mlc 0 --json list
listed=$OUT
PGHOST=$socket_dir PGPORT=5432 run_mlc 0 --json --catalog "dbname=mlc options='-csearch_path=$MLC_TEST_SCHEMA'" list
[ "$OUT" = "$listed" ] || fail "the keyword form with PGHOST read another catalogue: $OUT"
ok "libpq's keyword form and PGHOST/PGPORT name the same catalogue"

# Writers queue for the lock and see each other's commits whatever isolation the server or role
# defaults to (the write transaction asks for READ COMMITTED itself); a schema whose name needs
# quoting works.
pids=()
for i in 1 2 3 4 5 6; do
  PGOPTIONS='-c default_transaction_isolation=serializable' "$MLC_BIN" --json register --artifact a.pt --name iso \
    > "iso-$i.json" 2> "iso-$i.err" & pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || fail "a writer under serializable failed: $(cat iso-*.err)"; done
[ "$("$PYTHON" -c "import json,sys; print(sorted(json.load(open(f))['version'] for f in sys.argv[1:]))" iso-*.json)" = \
  "[1, 2, 3, 4, 5, 6]" ] || fail "versions under serializable: $(cat iso-*.json)"
psql_catalog -c "CREATE SCHEMA \"Team-A-$MLC_TEST_SCHEMA\""
quoted_url="${MLC_CATALOG%%options=*}options=-csearch_path%3D%22Team-A-$MLC_TEST_SCHEMA%22"
MLC_HOME="$WORK/team-a-home" run_mlc 0 --catalog "$quoted_url" register --artifact a.pt --name q
MLC_HOME="$WORK/team-a-home" run_mlc 0 --json --catalog "$quoted_url" verify; validate verify
[ "$(json_field "$OUT" "d['ok'], d['integrity'], d['versions']")" = "True ok 1" ] || fail "verify in a schema whose name needs quoting: $OUT"
ok "6 writers defaulting to serializable: versions 1..6; a schema named \"Team-A-...\" works and verifies"

psql_catalog -c "UPDATE mlc_schema SET version = 7"
expect_error 8 "the catalogue has schema version 7, made by a newer mlc; this mlc understands up to version 6: upgrade mlc" list
psql_catalog -c "UPDATE mlc_schema SET version = 6"
ok "a PostgreSQL catalogue from a newer mlc is refused"

# catalog copy: a SQLite catalogue with every kind of row, into an empty schema.
sqlite_home="$WORK/sqlite-home"
sq() { MLC_HOME="$sqlite_home" MLC_CATALOG= "$MLC_BIN" "$@"; }
config=$(wine_config)
sed -i 's/"epochs": 30/"epochs": 3/' "$config"
sq -q train "$config" --name wine > /dev/null
sq -q train "$config" --name wine > /dev/null
sq -q eval wine:1 > /dev/null
sq -q export wine:1 > /dev/null
sq -q export wine:1 --variant int8 > /dev/null
sq -q register wine:1 --description "first" --tag team=a > /dev/null
sq -q deploy wine:1 --target staging > /dev/null
sq -q deploy wine:1 --target prod --variant int8 > /dev/null
sq -q alias wine champion 1 > /dev/null
sq -q register --artifact a.pt --name byo > /dev/null
sq -q deploy byo:1 --target prod > /dev/null
sq -q retire byo:1 --force > /dev/null
psql_catalog -c "CREATE SCHEMA ${MLC_TEST_SCHEMA}_copy"
copy_url="${MLC_CATALOG%%options=*}options=-csearch_path%3D${MLC_TEST_SCHEMA}_copy"
MLC_HOME="$sqlite_home" MLC_CATALOG= run_mlc 0 --json catalog copy --to "$copy_url"; validate catalog-copy
json_field "$OUT" "d['tables']['versions'], d['tables']['variants'], d['tables']['target_log'] > 0, d['rows'] > 50" \
  | grep -qx "3 1 True True" || fail "catalog copy: $OUT"
for command in "list" "show wine:1" "show byo:1" "history wine" "history byo" "history wine --target prod" "history wine --target prod --at 2100-01-01"; do
  # shellcheck disable=SC2086
  from=$(sq --json $command) && to=$(MLC_HOME="$sqlite_home" "$MLC_BIN" --catalog "$copy_url" --json $command) \
    || fail "$command failed after the copy"
  [ "$from" = "$to" ] || fail "$command differs after catalog copy: $(diff <(echo "$from") <(echo "$to"))"
done
MLC_HOME="$sqlite_home" run_mlc 0 --json --catalog "$copy_url" verify; validate verify
[ "$(json_field "$OUT" "d['ok'], d['versions']")" = "True 3" ] || fail "verify after the copy: $OUT"
MLC_HOME="$sqlite_home" run_mlc 0 --json --catalog "$copy_url" register --artifact b.pt --name byo
[ "$(json_field "$OUT" "d['version']")" = 2 ] || fail "the copied catalogue numbers on from 1: $OUT"
MLC_HOME="$sqlite_home" run_mlc 0 --catalog "$copy_url" deploy wine:1 --target canary
ok "catalog copy: every table copied in one transaction; list, show, history and target logs read the same; verify clean; new writes number on"

before=$(MLC_CATALOG="$copy_url" catalogue_fingerprint)
MLC_HOME="$sqlite_home" MLC_CATALOG= expect_error 6 "is not empty (2 models): catalog copy only fills an empty one" \
  catalog copy --to "$copy_url"
[ "$(MLC_CATALOG="$copy_url" catalogue_fingerprint)" = "$before" ] || fail "a refused copy changed the target"
MLC_HOME="$WORK/empty-home" MLC_CATALOG= expect_error 4 "no catalogue to copy" catalog copy --to "$copy_url"
ok "catalog copy refuses a target that is not empty, and a home without a catalogue"

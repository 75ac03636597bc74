#!/usr/bin/env bash
# The catalogue commands must not pay for libtorch, and behave on an empty or missing catalogue.
source "$(dirname "$0")/lib.sh"

! grep -q torch <<< "$(ldd "$MLC_BIN")" || fail "the mlc binary links libtorch directly: $(ldd "$MLC_BIN" | grep torch)"
ok "the mlc binary does not link libtorch"

run_mlc 0 --json list
validate list
[ ! -e "$MLC_HOME" ] || fail "list on a missing catalogue created $MLC_HOME"
ok "list on a missing catalogue prints an empty list and creates nothing"

mlc -q train "$(wine_config)" --name w > /dev/null
take_through w:1 exported
# With the compute library made unloadable, every catalogue command must still work.
export MLC_COMPUTE_LIB=/nonexistent/libmlc_compute.so
run_mlc 0 --json register w:1; validate register
run_mlc 0 --json list;     validate list
run_mlc 0 --json show w;   validate show
run_mlc 0 --json history w; validate history
run_mlc 0 --json deploy w --target staging; validate deploy
run_mlc 0 list --json      # global options after the subcommand work too
validate list
run_mlc 0 --json alias w champion 1; validate alias
run_mlc 0 --json edit w@champion --tag k=v; validate edit
run_mlc 0 --json history w --target staging --at 2999-01-01T00:00:00Z; validate history-target
run_mlc 0 --json verify; validate verify
run_mlc 0 --json gc --dry-run; validate gc
run_mlc 0 --json retire w:1 --force; validate retire
expect_error 6 "cannot roll back w on staging" rollback w --target staging
expect_error 1 "cannot load the compute library /nonexistent/libmlc_compute.so" train "$(wine_config)" --name w
expect_error 1 "cannot load the compute library /nonexistent/libmlc_compute.so" register --artifact "$MLC_HOME/catalog.db" --name w
ok "list, show, history, register, deploy, alias, edit, rollback, verify, gc and retire never load the compute library"

unset MLC_COMPUTE_LIB
expect_error 4 "no model named 'w'" --home "$WORK/fresh" register w:1
[ ! -e "$WORK/fresh" ] || fail "a failed register created a catalogue"
ok "commands acting on a version create nothing when there is no catalogue"

other="$WORK/other-home"
run_mlc 0 --home "$other" --json list
[ "$(json_field "$OUT" "len(d['versions'])")" = 0 ] || fail "--home must win over MLC_HOME"
ok "--home overrides MLC_HOME"

"$PYTHON" - "$MLC_HOME/catalog.db" <<'PY' || fail "the catalogue must refuse to rewrite history"
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
for sql in ("UPDATE history SET actor = 'mallory'", "DELETE FROM history"):
    try:
        con.execute(sql)
    except sqlite3.DatabaseError as e:
        assert "append-only" in str(e), e
    else:
        sys.exit(1)
assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
PY
ok "history is append-only in the database itself; WAL mode"

"$PYTHON" -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version = 99'); c.commit()" "$MLC_HOME/catalog.db"
expect_error 8 "schema version 99, made by a newer mlc" list
ok "a catalogue from a newer mlc is refused, not misread"

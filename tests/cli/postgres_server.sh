#!/usr/bin/env bash
# A throw-away PostgreSQL 15 cluster for the tests and bench/, in a directory of its own:
#
#   postgres_server.sh start DIR [--tcp PORT] [--max-connections N] [--lifetime SECONDS] [-c NAME=VALUE]...
#       initdb's a cluster in DIR/data (DIR must not exist or be empty), starts it with pg_ctl on a unix
#       socket in DIR (no TCP unless --tcp PORT: then 127.0.0.1:PORT too), creates the database `mlc`
#       owned by a superuser role named after the invoking user, and prints the libpq URL:
#       postgresql:///mlc?host=DIR&port=PORT (or, with --tcp, postgresql://127.0.0.1:PORT/mlc).
#   postgres_server.sh url DIR [socket|tcp]   prints the URL again
#   postgres_server.sh stop DIR               stops it (pg_ctl stop -m immediate) and removes DIR
#
# initdb and pg_ctl refuse to run as root: invoked as root, they run as the `postgres` user, DIR
# belongs to it, and the search bit is added to DIR's ancestors that root owns and postgres cannot
# pass (a mktemp -d directory is 0700). Authentication is `trust` on the socket and on loopback:
# this is a test cluster for one machine, never a place for data.
#
# Bounded: every wait has a timeout, and a watchdog stops the server after --lifetime seconds
# (default 3600) in case `stop` is never called. Measured on the shared 2-core VM (load 8-12):
# initdb --no-sync 1.5-2.6 s, pg_ctl start 0.12-0.26 s, stop (pg_ctl, then rm -rf DIR) 0.2-0.3 s.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
STEP_TIMEOUT=60   # seconds for initdb, pg_ctl start/stop and each psql

die() { echo "postgres_server.sh: $*" >&2; exit 1; }

# as_owner CMD...: runs CMD as the cluster's owner (postgres when we are root), from DIR.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd "$DIR" && timeout -k 5 "$STEP_TIMEOUT" runuser -u postgres -- "$@")
  else
    (cd "$DIR" && timeout -k 5 "$STEP_TIMEOUT" "$@")
  fi
}

# let_postgres_reach DIR: adds the search bit (only) to root-owned ancestors postgres cannot pass.
let_postgres_reach() {
  local d=$1
  while [ "$d" != / ]; do
    d=$(dirname "$d")
    if ! runuser -u postgres -- test -x "$d"; then
      [ "$(stat -c %u "$d")" -eq 0 ] || die "user postgres cannot enter $d (not ours to change)"
      chmod o+x "$d"
    fi
  done
}

cmd_start() {
  local tcp_port="" max_connections=200 lifetime=3600 settings=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --tcp) tcp_port=${2:?--tcp needs a port}; shift 2 ;;
      --max-connections) max_connections=${2:?}; shift 2 ;;
      --lifetime) lifetime=${2:?}; shift 2 ;;
      -c) settings+=("${2:?-c needs NAME=VALUE}"); shift 2 ;;
      *) die "start: unknown option $1" ;;
    esac
  done
  [ -x "$PG_BIN/initdb" ] || die "no $PG_BIN/initdb: install Debian's postgresql (scripts/install-deps.sh)"
  mkdir -p "$DIR"
  [ -z "$(ls -A "$DIR")" ] || die "$DIR is not empty"
  DIR=$(cd "$DIR" && pwd -P)
  # The socket is DIR/.s.PGSQL.PORT; a unix socket path holds at most 107 bytes.
  local port=${tcp_port:-5432}
  [ ${#DIR} -le 90 ] || die "$DIR is too long for a unix socket path (${#DIR} > 90 characters)"
  if [ "$(id -u)" -eq 0 ]; then
    let_postgres_reach "$DIR"
    chown postgres: "$DIR"
  fi
  chmod 0755 "$DIR"

  local t0=$EPOCHREALTIME
  # --no-sync: the cluster is thrown away, and initdb's fsync of its ~1,000 files cost 1.3-2.7 s
  # of its 2.8-4.7 s here (the server itself still syncs its commits, as in production).
  as_owner "$PG_BIN/initdb" -D "$DIR/data" --no-sync --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
    > "$DIR/initdb.log" 2>&1 || die "initdb failed: $(tail -n 5 "$DIR/initdb.log")"
  local t1=$EPOCHREALTIME
  {
    echo "# postgres_server.sh"
    echo "unix_socket_directories = '$DIR'"
    echo "port = $port"
    if [ -n "$tcp_port" ]; then echo "listen_addresses = '127.0.0.1'"; else echo "listen_addresses = ''"; fi
    echo "max_connections = $max_connections"
    local s
    for s in "${settings[@]}"; do echo "${s%%=*} = '${s#*=}'"; done
  } >> "$DIR/data/postgresql.conf"

  as_owner "$PG_BIN/pg_ctl" start -D "$DIR/data" -l "$DIR/server.log" -w -t 30 > "$DIR/pg_ctl.log" 2>&1 \
    || die "pg_ctl start failed: $(tail -n 5 "$DIR/server.log" 2>/dev/null)"
  local t2=$EPOCHREALTIME

  # The watchdog, at once (a failure below leaves a running server to `stop`): stops the cluster
  # after --lifetime seconds unless `stop` ends it first. A session
  # of its own (setsid), so that `stop` can end its shell and its sleep together.
  local owner=()
  [ "$(id -u)" -ne 0 ] || owner=(runuser -u postgres --)
  # shellcheck disable=SC2016 # the inner shell expands them
  setsid "${owner[@]}" bash -c 'sleep "$1"; "$2" stop -D "$3" -m immediate -w -t 30' watchdog \
    "$lifetime" "$PG_BIN/pg_ctl" "$DIR/data" > /dev/null 2>&1 < /dev/null &
  local watchdog=$!

  cat > "$DIR/server.env" <<EOF
PG_DIR=$DIR
PG_PORT=$port
PG_TCP_PORT=$tcp_port
PG_WATCHDOG_PID=$watchdog
PG_INITDB_SECONDS=$(awk "BEGIN{printf \"%.3f\", $t1 - $t0}")
PG_START_SECONDS=$(awk "BEGIN{printf \"%.3f\", $t2 - $t1}")
EOF
  # A superuser role for whoever invoked us (root as well), so that a URL without a user works.
  local me
  me=$(id -un)
  local psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$port" -d postgres)
  if [ "$me" != postgres ]; then
    as_owner "${psql[@]}" -c "CREATE ROLE \"$me\" SUPERUSER LOGIN" > /dev/null || die "could not create role $me"
  fi
  as_owner "${psql[@]}" -c "CREATE DATABASE mlc OWNER \"$me\"" > /dev/null || die "could not create database mlc"

  if [ -n "$tcp_port" ]; then cmd_url tcp; else cmd_url socket; fi
}

cmd_url() {
  [ -f "$DIR/server.env" ] || die "no server in $DIR"
  local PG_DIR PG_PORT PG_TCP_PORT
  PG_DIR=$(sed -n 's/^PG_DIR=//p' "$DIR/server.env")
  PG_PORT=$(sed -n 's/^PG_PORT=//p' "$DIR/server.env")
  PG_TCP_PORT=$(sed -n 's/^PG_TCP_PORT=//p' "$DIR/server.env")
  case "${1:-socket}" in
    socket) echo "postgresql:///mlc?host=$PG_DIR&port=$PG_PORT" ;;
    tcp) [ -n "$PG_TCP_PORT" ] || die "the server in $DIR was started without --tcp"
         echo "postgresql://127.0.0.1:$PG_TCP_PORT/mlc" ;;
    *) die "url: socket or tcp, not $1" ;;
  esac
}

cmd_stop() {
  [ -d "$DIR" ] || return 0
  if [ -f "$DIR/server.env" ]; then
    local watchdog
    watchdog=$(sed -n 's/^PG_WATCHDOG_PID=//p' "$DIR/server.env")
    # The watchdog is a session of its own (setsid): end its sleep and shell, nothing else.
    [ -z "$watchdog" ] || kill -- -"$watchdog" 2> /dev/null || kill "$watchdog" 2> /dev/null || true
  fi
  if [ -f "$DIR/data/postmaster.pid" ]; then
    as_owner "$PG_BIN/pg_ctl" stop -D "$DIR/data" -m immediate -w -t 30 > /dev/null 2>&1 \
      || die "pg_ctl stop failed; $DIR kept"
  fi
  rm -rf "$DIR"
}

[ $# -ge 2 ] || die "usage: postgres_server.sh start|url|stop DIR [OPTION...]"
action=$1
DIR=$2
shift 2
case "$action" in
  start) cmd_start "$@" ;;
  url) DIR=$(cd "$DIR" && pwd -P); cmd_url "$@" ;;
  stop) cmd_stop ;;
  *) die "unknown command $action (start, url or stop)" ;;
esac

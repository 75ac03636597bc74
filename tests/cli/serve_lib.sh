# Shared by the `mlc serve` suites (test_serve.sh, test_serve_swap.sh), after lib.sh: servers on
# loopback started with --port 0, each bounded by `timeout` and killed when the suite ends; clients
# from tests/python/oip_client.py, each bounded too.

SERVE_LIFETIME=${SERVE_LIFETIME:-240}  # seconds any one server may live
CLIENT_TIMEOUT=60                      # seconds any one client process may take
OIP_CLIENT="$MLC_SOURCE_DIR/tests/python/oip_client.py"
SERVE_CHECKS="$MLC_SOURCE_DIR/tests/python/serve_checks.py"
SERVER_PIDS=()
SERVER_LOGS=()
SERVE_ENV=()
# The idle-connection checks hold a few hundred sockets; servers inherit the limit too.
[ "$(ulimit -n)" -ge 1024 ] || ulimit -n 1024

# kill_server PID: SIGKILL to `timeout` and to the mlc it runs.
kill_server() {
  local children
  children=$(ps -o pid= --ppid "$1" 2> /dev/null || true)
  kill -KILL "$1" $children 2> /dev/null || true
}

# On exit: every server still running is killed; on failure the tail of every server log goes to
# stderr, then lib.sh's on_exit reports.
serve_on_exit() {
  local status=$?
  local pid log
  for pid in "${SERVER_PIDS[@]}"; do kill_server "$pid"; done
  if [ $status -ne 0 ]; then
    for log in "${SERVER_LOGS[@]}"; do
      echo "--- last lines of $log:" >&2
      tail -n 25 "$log" >&2 || true
    done
  fi
  (exit $status)
  on_exit
}
trap serve_on_exit EXIT

# start_server LOG TARGET [OPTION...]: starts `mlc serve --target TARGET --port 0 OPTION...` in the
# background with its stderr in $WORK/LOG.log, and waits until it says where it listens. Sets
# SERVER_PID (that of `timeout`, which passes SIGTERM on to mlc, once: --foreground, and exits
# with mlc's status), SERVER_LOG and PORT. Environment for the server: SERVE_ENV=(NAME=VALUE ...).
start_server() {
  local name=$1 target=$2; shift 2
  SERVER_LOG="$WORK/$name.log"
  : > "$SERVER_LOG"
  env "${SERVE_ENV[@]}" timeout --foreground -k 5 "$SERVE_LIFETIME" "$MLC_BIN" serve --target "$target" --port 0 "$@" \
    2> "$SERVER_LOG" > "$WORK/$name.stdout" &
  SERVER_PID=$!
  SERVER_PIDS+=("$SERVER_PID")
  SERVER_LOGS+=("$SERVER_LOG")
  local deadline=$((SECONDS + 30))
  until grep -q '^mlc serve: listening on http://' "$SERVER_LOG"; do
    kill -0 "$SERVER_PID" 2> /dev/null || fail "mlc serve --target $target $* exited: $(cat "$SERVER_LOG")"
    [ $SECONDS -lt $deadline ] || fail "mlc serve --target $target did not listen within 30 s: $(cat "$SERVER_LOG")"
    sleep 0.1
  done
  local line
  line=$(grep -m1 '^mlc serve: listening on http://' "$SERVER_LOG")
  PORT=$(sed -n 's|^mlc serve: listening on http://[^ ]*:\([0-9][0-9]*\) .*|\1|p' <<< "$line")
  [ -n "$PORT" ] || fail "no port in '$line'"
}

# wait_exit PID SECONDS: the exit status of a server that was asked to stop, in STOP_STATUS; a
# server still running after SECONDS is killed and the suite fails.
wait_exit() {
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2> /dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      kill_server "$1"
      fail "mlc serve still running $2 s after SIGTERM"
    fi
    sleep 0.1
  done
  STOP_STATUS=0
  wait "$1" || STOP_STATUS=$?
}

# stop_server PID: SIGTERM, then the exit status (within 15 s) in STOP_STATUS.
stop_server() {
  kill -TERM "$1"
  wait_exit "$1" 15
}

# oip [OPTION...] METHOD PATH [BODY|@FILE]: one request to the server on $PORT; the status in
# STATUS and the body in BODY.
oip() {
  local out
  local request="$*"
  out=$(timeout "$CLIENT_TIMEOUT" "$PYTHON" "$OIP_CLIENT" --port "$PORT" "$@") \
    || fail "no response to ${request:0:300}"
  STATUS=${out%%$'\n'*}
  BODY=${out#*$'\n'}
}

# expect_http CODE TEXT [OPTION...] METHOD PATH [BODY]: the response must have status CODE; if
# CODE is not 200, the body must be the protocol's {"error": "..."}, its message containing TEXT
# or one of TEXT's alternatives separated by '|' (any message if TEXT is empty).
expect_http() {
  local code=$1 text=$2; shift 2
  oip "$@"
  local request="$*"
  request=${request:0:300}
  [ "$STATUS" = "$code" ] || fail "$request: status $STATUS, expected $code; body: ${BODY:0:400}"
  [ "$code" = 200 ] && return
  local message
  message=$(json_field "$BODY" "d['error'] if isinstance(d.get('error'), str) else ''" 2> /dev/null) \
    || fail "$request: the $code body is not JSON: ${BODY:0:400}"
  [ -n "$message" ] || fail "$request: the $code body has no error string: ${BODY:0:400}"
  [ -z "$text" ] && return
  local alternative alternatives
  IFS='|' read -r -a alternatives <<< "$text"
  for alternative in "${alternatives[@]}"; do
    [[ "$message" == *"$alternative"* ]] && return
  done
  fail "$request: error '$message' does not name '$text'"
}

# wait_until SECONDS WHAT COMMAND...: runs COMMAND every 0.1 s until it succeeds.
wait_until() {
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || fail "$what: not within $limit s"
    sleep 0.1
  done
}

# status_is CODE METHOD PATH: for wait_until.
status_is() {
  local code=$1; shift
  oip "$@"
  [ "$STATUS" = "$code" ]
}

# checks SUBCOMMAND ARG...: one group of checks of tests/python/serve_checks.py, bounded.
checks() {
  timeout "$CLIENT_TIMEOUT" "$PYTHON" "$SERVE_CHECKS" "$@"
}

# fmnist_config NAME: a Fashion-MNIST MLP small enough to train in about a second.
fmnist_config() {
  cat > "$WORK/$1.json" <<JSON
{
  "data": {
    "format": "idx",
    $(fmnist_files_json),
    "class_names": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
    "train_limit": 600,
    "test_limit": 100
  },
  "model": {"architecture": "mlp", "hidden_layers": [32]},
  "training": {"epochs": 1, "batch_size": 64, "seed": 7, "threads": 1,
               "optimizer": {"name": "adam", "learning_rate": 0.002}}
}
JSON
  echo "$WORK/$1.json"
}

# ship REF TARGET...: eval, export, register a trained version, then deploy it to each TARGET.
ship() {
  local ref=$1; shift
  mlc -q eval "$ref" > /dev/null
  mlc -q export "$ref" --out "$WORK/exports/$ref/model.pt" > /dev/null
  mlc -q register "$ref" > /dev/null
  local target
  for target in "$@"; do mlc -q deploy "$ref" --target "$target" > /dev/null; done
}

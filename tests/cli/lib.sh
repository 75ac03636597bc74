# Shared by the CLI suites (tests/cli/test_*.sh), which ctest runs with MLC_BIN, MLC_SOURCE_DIR,
# MLC_TEST_DATA_DIR, MLC_FASHION_MNIST_DIR and PYTHON set. Each suite gets a fresh MLC_HOME in a
# temporary directory, removed on success and kept (and named) on failure.
set -euo pipefail
# With pipefail, `producer | grep -q` fails at random when grep exits at its match before the
# producer has written the rest (bash's printf writes line by line) and the producer dies of
# SIGPIPE: search text already in a variable with a here-string, `grep -q PATTERN <<< "$TEXT"`.

: "${MLC_BIN:?}" "${MLC_SOURCE_DIR:?}" "${MLC_TEST_DATA_DIR:?}" "${MLC_FASHION_MNIST_DIR:?}"
PYTHON=${PYTHON:-/usr/bin/python3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mlc-cli-XXXXXX")
export MLC_HOME="$WORK/home"
export MLC_ACTOR="cli-test"
unset NO_COLOR
cd "$WORK"

# With MLC_TEST_POSTGRES set (ctest's cli_*_postgres runs: a PostgreSQL 15 the tests started), the
# suite's catalogue is a schema of its own on that server, which MLC_CATALOG names; the files stay
# in MLC_HOME. Without it, MLC_CATALOG is cleared: the suite's catalogue is MLC_HOME's SQLite file.
unset MLC_CATALOG
if [ -n "${MLC_TEST_POSTGRES:-}" ]; then
  MLC_TEST_SCHEMA="s$(basename "$WORK" | tr 'A-Z' 'a-z' | tr -dc 'a-z0-9')$$"
  psql -X -q -v ON_ERROR_STOP=1 -d "$MLC_TEST_POSTGRES" -c "CREATE SCHEMA $MLC_TEST_SCHEMA" \
    || { echo "cannot create schema $MLC_TEST_SCHEMA on $MLC_TEST_POSTGRES" >&2; exit 1; }
  case "$MLC_TEST_POSTGRES" in *\?*) separator='&' ;; *) separator='?' ;; esac
  export MLC_CATALOG="$MLC_TEST_POSTGRES${separator}options=-csearch_path%3D$MLC_TEST_SCHEMA"
fi

passed=0
on_exit() {
  local status=$?
  if [ $status -eq 0 ]; then
    rm -rf "$WORK"
    echo "$passed passed, 0 failed"
  else
    echo "FAILED (work directory kept: $WORK)" >&2
    echo "$passed passed, 1 failed"
  fi
}
trap on_exit EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { passed=$((passed + 1)); echo "ok - $*"; }

mlc() { "$MLC_BIN" "$@"; }

# run_mlc EXPECTED_EXIT ARGS...: runs mlc, keeps stdout in $OUT and stderr in $ERR.
run_mlc() {
  local expected=$1; shift
  local status=0
  "$MLC_BIN" "$@" > "$WORK/stdout" 2> "$WORK/stderr" || status=$?
  OUT=$(cat "$WORK/stdout"); ERR=$(cat "$WORK/stderr")
  if [ "$status" -ne "$expected" ]; then
    fail "mlc $* exited $status, expected $expected; stderr: $ERR"
  fi
}

# expect_error EXIT MESSAGE ARGS...: mlc must fail with EXIT and print exactly one stderr line,
# "mlc: error: ..." containing MESSAGE; stdout must be empty.
expect_error() {
  local expected=$1 message=$2; shift 2
  run_mlc "$expected" "$@"
  [ -z "$OUT" ] || fail "mlc $*: expected nothing on stdout, got: $OUT"
  [ "$(printf '%s\n' "$ERR" | wc -l)" -eq 1 ] || fail "mlc $*: expected one stderr line, got: $ERR"
  case "$ERR" in
    "mlc: error: "*"$message"*) ;;
    *) fail "mlc $*: stderr '$ERR' does not contain '$message'" ;;
  esac
}

# json_field JSON EXPR: evaluates a Python expression on the parsed document `d`.
json_field() { "$PYTHON" -c "import json,sys; d=json.loads(sys.argv[1]); print($2)" "$1"; }

# validate SCHEMA_NAME: the last $OUT must be one JSON document valid against its schema.
validate() { printf '%s' "$OUT" | "$PYTHON" "$MLC_SOURCE_DIR/tests/cli/validate_json.py" "$1" - > /dev/null; }

# catalogue_fingerprint: everything a failed command must leave unchanged: every row of every
# table of the catalogue, and every file of the store, the deployment and the run directories.
catalogue_fingerprint() {
  { if [ -n "${MLC_CATALOG:-}" ] || [ -f "$MLC_HOME/catalog.db" ]; then
      "$PYTHON" "$MLC_SOURCE_DIR/tests/cli/catalog_db.py" dump
    fi
    { find "$MLC_HOME/artifacts" "$MLC_HOME/deployments" "$MLC_HOME/runs" -type f -exec sha256sum {} + 2>/dev/null || true; } | sort
  } | sha256sum
}

# The four Fashion-MNIST IDX files as a config's "data" keys (no trailing comma), for the suites'
# configs to embed: $(fmnist_files_json) inside an unquoted heredoc.
fmnist_files_json() {
  printf '"train_images": "%s", "train_labels": "%s",\n    "test_images": "%s", "test_labels": "%s"' \
    "$MLC_FASHION_MNIST_DIR/train-images-idx3-ubyte.gz" "$MLC_FASHION_MNIST_DIR/train-labels-idx1-ubyte.gz" \
    "$MLC_FASHION_MNIST_DIR/t10k-images-idx3-ubyte.gz" "$MLC_FASHION_MNIST_DIR/t10k-labels-idx1-ubyte.gz"
}

# A Fashion-MNIST slice small enough for CI: 2,000 training images, 500 test images, 1 epoch.
tiny_fmnist_config() {
  cat > "$WORK/fmnist-tiny.json" <<JSON
{
  "data": {
    "format": "idx",
    $(fmnist_files_json),
    "class_names": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
    "train_limit": 2000,
    "test_limit": 500
  },
  "model": {"architecture": "mlp", "hidden_layers": [64, 32]},
  "training": {"epochs": 2, "batch_size": 64, "seed": 7, "threads": 2,
               "optimizer": {"name": "adam", "learning_rate": 0.002}}
}
JSON
  echo "$WORK/fmnist-tiny.json"
}

wine_config() {
  cat > "$WORK/wine.json" <<JSON
{
  "data": {"format": "csv", "path": "${1:-$MLC_TEST_DATA_DIR/wine.csv}", "target": "class",
           "test_fraction": 0.2},
  "model": {"architecture": "mlp", "hidden_layers": [16]},
  "training": {"epochs": 30, "batch_size": 16, "seed": 3, "threads": 1,
               "optimizer": {"name": "adam", "learning_rate": 0.01}}
}
JSON
  echo "$WORK/wine.json"
}

# alcohol_config [EPOCHS]: a regression of the wine table's alcohol column (30 epochs by default).
alcohol_config() {
  cat > "$WORK/alcohol.json" <<JSON
{"data": {"format": "csv", "path": "$MLC_TEST_DATA_DIR/wine.csv", "target": "alcohol", "task": "regression",
          "test_fraction": 0.2},
 "model": {"architecture": "mlp", "hidden_layers": [16]},
 "training": {"epochs": ${1:-30}, "batch_size": 16, "seed": 3, "threads": 1,
              "optimizer": {"name": "adam", "learning_rate": 0.01}}}
JSON
  echo "$WORK/alcohol.json"
}

# take_through NAME:V STATE: moves a trained version forward to STATE.
take_through() {
  local ref=$1 state=$2
  mlc -q eval "$ref" > /dev/null
  [ "$state" = evaluated ] && return
  mlc -q export "$ref" --out "$WORK/exports/$ref.pt" > /dev/null
  [ "$state" = exported ] && return
  mlc -q register "$ref" > /dev/null
}

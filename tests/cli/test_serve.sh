#!/usr/bin/env bash
# `mlc serve` (issue 8, items 1, 4 and 6): every endpoint of the Open Inference Protocol V2 and
# every error the issue names, through an OIP client written from the protocol text
# (tests/python/oip_client.py); the numbers against Python's torch.jit.load of the deployed file;
# a server started before the first train; the bearer token, the body limit, 503 before a model
# loads, SIGTERM drain; bad, idle and slow clients beside good ones; /metrics through promtool.
# Everything on loopback, every server and client bounded in time (serve_lib.sh).
source "$(dirname "$0")/lib.sh"
source "$MLC_SOURCE_DIR/tests/cli/serve_lib.sh"

# A server started before anything exists: no catalogue, no model, no target.
start_server early early
EARLY_PID=$SERVER_PID EARLY_PORT=$PORT EARLY_LOG=$SERVER_LOG
grep -q "^mlc serve: listening on http://127.0.0.1:$PORT (target early[,)]" "$EARLY_LOG" \
  || fail "the listening line: $(cat "$EARLY_LOG")"
expect_http 200 "" GET /v2/health/live
ok "mlc serve starts on an empty home, on 127.0.0.1 and the port --port 0 chose, and is live"

# The models: a Fashion-MNIST MLP; on a wine table with a categorical column of strings (and an
# id column the model ignores), a classifier and a regression.
"$PYTHON" - "$MLC_TEST_DATA_DIR/wine-missing.csv" "$WORK/wine-colour.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
header = rows[0]
hue = header.index("hue")
with open(sys.argv[2], "w", newline="") as out:
    writer = csv.writer(out)
    writer.writerow(["cellar_id"] + header[:hue] + ["colour"] + header[hue:])
    for number, row in enumerate(rows[1:]):
        try:
            value = float(row[hue])
            colour = "amber" if value < 0.8 else "garnet" if value < 1.05 else "ruby red"
        except ValueError:
            colour = ["", "NA"][number % 2]
        writer.writerow([f"cellar-{number}"] + row[:hue] + [colour] + row[hue:])
PY
table_config() {
  cat > "$WORK/$1.json" <<JSON
{"data": {"format": "csv", "path": "$WORK/wine-colour.csv", "target": "$2", "task": "$3",
          "categorical": $4, "ignore": ["cellar_id"], "impute": {"strategy": "median"}},
 "model": {"architecture": "mlp", "hidden_layers": [16]},
 "training": {"epochs": 20, "batch_size": 16, "seed": 3, "threads": 1,
              "optimizer": {"name": "adam", "learning_rate": 0.01}}}
JSON
  echo "$WORK/$1.json"
}
mlc -q train "$(fmnist_config fmnist)" --name fmnist > /dev/null
ship fmnist:1 prod early broken
mlc -q train "$(table_config cultivar class classification '["colour"]')" --name cultivar > /dev/null
ship cultivar:1 prod
mlc -q train "$(table_config alcohol alcohol regression '["colour", "class"]')" --name alcohol > /dev/null
ship alcohol:1 prod

PORT=$EARLY_PORT
wait_until 5 "the server started before the first train serves the first deploy" \
  status_is 200 GET /v2/models/fmnist/ready
expect_http 200 "" POST /v2/models/fmnist/infer \
  '{"inputs": [{"name": "input", "shape": [1, 28, 28], "datatype": "FP32", "data": ['"$(printf '0,%.0s' {1..783})"'0]}]}'
[ "$(json_field "$BODY" "d['model_name'], d['model_version']")" = "fmnist 1" ] || fail "early infer: $BODY"
grep -q "^mlc serve: loaded fmnist:1 (sha256 " "$EARLY_LOG" || fail "no 'loaded fmnist:1' line: $(cat "$EARLY_LOG")"
expect_http 200 "" GET /v2/health/ready
ok "a server started before the first train picks up the first deploy"

stop_server "$EARLY_PID"
[ "$STOP_STATUS" = 0 ] || fail "SIGTERM: exit $STOP_STATUS; $(cat "$EARLY_LOG")"
grep -q '^mlc serve: stopping (0 requests in flight)$' "$EARLY_LOG" || fail "no stopping line: $(cat "$EARLY_LOG")"
ok "SIGTERM with nothing in flight: 'stopping (0 requests in flight)', exit 0"

# The main server: three models on prod, two threads.
start_server main prod --threads 2
MAIN_PID=$SERVER_PID MAIN_PORT=$PORT MAIN_LOG=$SERVER_LOG
wait_until 10 "ready" status_is 200 GET /v2/health/ready
json_field "$BODY" "d == {'ready': True}" | grep -qx True || fail "ready body: $BODY"
expect_http 200 "" GET /v2/health/live
json_field "$BODY" "d == {'live': True}" | grep -qx True || fail "live body: $BODY"
for model in fmnist cultivar alcohol; do
  sha=$(sha256sum "$MLC_HOME/deployments/prod/$model/model.pt" | cut -d' ' -f1)
  grep -q "^mlc serve: loaded $model:1 (sha256 ${sha:0:8}" "$MAIN_LOG" \
    || fail "no 'loaded $model:1 (sha256 ${sha:0:8}...' line: $(cat "$MAIN_LOG")"
done
ok "health: live and ready once the three models are loaded; one 'loaded' line each with its sha256"

expect_http 200 "" GET /v2
json_field "$BODY" "d['name'], d['version'], isinstance(d['extensions'], list)" \
  | grep -qx "mlc $(mlc --version | grep -o '[0-9][0-9.]*' | head -1) True" || fail "server metadata: $BODY"
ok "server metadata: name, version, extensions"

checks fmnist "$PORT" fmnist 1 "$MLC_HOME/deployments/prod/fmnist" "$MLC_FASHION_MNIST_DIR/t10k-images-idx3-ubyte.gz" \
  || fail "the image classifier through the protocol"
ok "fmnist: metadata, ready, flat and nested data, id, outputs selection, keep-alive; torch.jit.load agrees within 1e-5"

checks table "$PORT" cultivar 1 "$MLC_HOME/deployments/prod/cultivar" "$WORK/wine-colour.csv" \
  || fail "the table classifier through the protocol"
checks table "$PORT" alcohol 1 "$MLC_HOME/deployments/prod/alcohol" "$WORK/wine-colour.csv" \
  || fail "the table regression through the protocol"
ok "table models: category strings as BYTES and codes as FP32 (null missing) agree with torch.jit.load within 1e-5"

# Bad requests: 400 naming what is wrong (alternatives separated by |).
zeros() { printf '0,%.0s' $(seq 2 "$1"); printf '0'; }
image=$(zeros 784)
tensor_of() { printf '{"name": "%s", "shape": %s, "datatype": "%s", "data": [%s]}' "$@"; }
good='{"inputs": ['"$(tensor_of input '[1, 28, 28]' FP32 "$image")"']}'
infer=/v2/models/fmnist/infer
expect_http 200 "" POST $infer "$good"
expect_http 400 "" POST $infer '{"inputs": [{"name": "input", "shape": [1, 28, 28], "datatype": "FP32", "data": [0, 0,'
expect_http 400 "" POST $infer ''
expect_http 400 "" POST $infer '[]'
expect_http 400 "inputs" POST $infer '{"id": "no inputs"}'
expect_http 400 "inputs" POST $infer '{"inputs": {}}'
expect_http 400 "pixels" POST $infer '{"inputs": ['"$(tensor_of pixels '[1, 28, 28]' FP32 "$image")"']}'
expect_http 400 "27|dimension|shape" POST $infer '{"inputs": ['"$(tensor_of input '[1, 28, 27]' FP32 "$(zeros 756)")"']}'
expect_http 400 "784|700" POST $infer '{"inputs": ['"$(tensor_of input '[1, 28, 28]' FP32 "$(zeros 700)")"']}'
expect_http 400 "BOOL|datatype" POST $infer '{"inputs": ['"$(tensor_of input '[1, 28, 28]' BOOL "$image")"']}'
expect_http 400 "input" POST $infer '{"inputs": ['"$(tensor_of input '[1, 28, 28]' FP32 "\"a\",$(zeros 783)")"']}'
expect_http 400 "shape|-1" POST $infer '{"inputs": ['"$(tensor_of input '[-1, 28, 28]' FP32 "$image")"']}'
expect_http 400 "shape|100000000|input" POST $infer '{"inputs": ['"$(tensor_of input '[100000000, 28, 28]' FP32 "$image")"']}'
expect_http 400 "shape|4611686018427387904|input" POST $infer '{"inputs": ['"$(tensor_of input '[4611686018427387904, 28, 28]' FP32 "$image")"']}'
expect_http 400 "shape|input" POST $infer '{"inputs": [{"name": "input", "shape": [1, 28, 28], "datatype": "FP32", "data": [['"$(zeros 28)"'], ['"$(zeros 27)"']]}]}'
expect_http 400 "input" POST $infer '{"inputs": ['"$(tensor_of input '[1, 28, 28]' FP32 "$image"), $(tensor_of input '[1, 28, 28]' FP32 "$image")"']}'
expect_http 400 "scores" POST $infer '{"inputs": ['"$(tensor_of input '[1, 28, 28]' FP32 "$image")"'], "outputs": [{"name": "scores"}]}'
expect_http 400 "14|13|dimension|shape" POST /v2/models/cultivar/infer \
  '{"inputs": ['"$(tensor_of input '[1, 13]' FP32 "$(zeros 13)")"']}'
expect_http 200 "" POST $infer "$good"
kill -0 "$MAIN_PID" 2> /dev/null || fail "the server died of a bad request"
ok "400 for bad JSON, a missing key, an unknown input or output, a wrong shape, size, datatype or value"

expect_http 404 "nosuch" GET /v2/models/nosuch
expect_http 404 "nosuch" GET /v2/models/nosuch/ready
expect_http 404 "nosuch" POST /v2/models/nosuch/infer "$good"
expect_http 404 "7" GET /v2/models/fmnist/versions/7
expect_http 404 "7" GET /v2/models/fmnist/versions/7/ready
expect_http 404 "7" POST /v2/models/fmnist/versions/7/infer "$good"
expect_http 404 "" GET /v2/models/fmnist/versions/one
expect_http 404 "" GET /v2/nothing
expect_http 404 "" GET /
ok "404 for an unknown model, version or path, naming the model or version"

expect_http 405 "" GET $infer
expect_http 405 "" POST /v2/health/live '{}'
expect_http 405 "" POST /v2/health/ready '{}'
expect_http 405 "" DELETE /v2
expect_http 405 "" PUT /v2/models/fmnist '{}'
expect_http 405 "" POST /metrics '{}'
ok "405 for a method an endpoint does not take"

checks isolation "$PORT" fmnist || fail "bad requests on other connections"
ok "garbage, TLS, huge headers, bad lengths and chunks, deep nesting: other connections carry on"

checks idle "$PORT" fmnist 256 || fail "256 idle keep-alive connections"
ok "256 idle keep-alive connections (and 64 silent ones) beside --threads 2: a new client is served"

command -v promtool > /dev/null || fail "promtool missing (Debian package prometheus; scripts/install-deps.sh)"
checks metrics "$PORT" fmnist 1 || fail "/metrics"
ok "/metrics: promtool check metrics clean, the issue's metrics, counters move by model, version, outcome"

grep -v '^mlc serve: ' "$MAIN_LOG" | head -5 | grep -q . && fail "stderr lines without the 'mlc serve: ' prefix: $(grep -v '^mlc serve: ' "$MAIN_LOG" | head -5)"
stop_server "$MAIN_PID"
[ "$STOP_STATUS" = 0 ] || fail "SIGTERM: exit $STOP_STATUS"
ok "every stderr line is a 'mlc serve: ' line; SIGTERM after all that: exit 0"

# Bearer token and body limit.
printf 's3cret-token\n' > "$WORK/token"
start_server guarded prod --token-file "$WORK/token" --max-request-bytes 4096
GUARDED_PID=$SERVER_PID
wait_until 10 "ready without a token" status_is 200 GET /v2/health/ready
expect_http 200 "" GET /v2/health/live
expect_http 401 "" GET /v2
expect_http 401 "" GET /v2/models/fmnist
expect_http 401 "" POST $infer "$good"
expect_http 401 "" --token wrong-token POST $infer "$good"
expect_http 401 "" --header "Authorization: Basic czNjcmV0LXRva2Vu" POST $infer "$good"
expect_http 401 "" --header "Authorization: Bearer s3cret-token2" POST $infer "$good"
expect_http 200 "" --token s3cret-token POST $infer "$good"
expect_http 200 "" --header "Authorization: Bearer s3cret-token" GET /v2/models/fmnist
checks auth "$PORT" fmnist s3cret-token || fail "401 headers and body"
ok "--token-file: 401 without, with a wrong or non-bearer token; health open; the file's token (newline trimmed) opens the rest"

python_body() { "$PYTHON" -c "import json; print(json.dumps({'inputs': [{'name': 'input', 'shape': [$1, 28, 28], 'datatype': 'FP32', 'data': [0] * ($1 * 784)}]}))" > "$2"; }
python_body 8 "$WORK/eight.json"
expect_http 413 "" --token s3cret-token POST $infer "@$WORK/eight.json"
expect_http 200 "" --token s3cret-token POST $infer "$good"
checks oversize "$PORT" fmnist 4096 s3cret-token || fail "413 without the body"
expect_http 200 "" --token s3cret-token POST $infer "$good"
stop_server "$GUARDED_PID"
[ "$STOP_STATUS" = 0 ] || fail "SIGTERM: exit $STOP_STATUS"
ok "--max-request-bytes: 413 over it (announced, sent or chunked), then the next request is served"

# Slow clients with a 2 s read timeout.
SERVE_ENV=(MLC_SERVE_READ_TIMEOUT_SECONDS=2)
start_server slow prod --threads 2
SERVE_ENV=()
SLOW_PID=$SERVER_PID
wait_until 10 "ready" status_is 200 GET /v2/health/ready
checks slowloris "$PORT" fmnist 2 || fail "slowloris"
stop_server "$SLOW_PID"
ok "slow clients (one byte a second) and a silent one do not block others and are cut off by the read timeout"

# A deployment whose model.pt does not match the catalogue: the server says why and is not ready
# (503) until a deploy places the right file.
printf 'x' >> "$MLC_HOME/deployments/broken/fmnist/model.pt"
start_server broken broken
BROKEN_PID=$SERVER_PID BROKEN_LOG=$SERVER_LOG
wait_until 10 "an error line about fmnist's sha256" grep -q '^mlc serve: error: .*fmnist.*sha256\|^mlc serve: error: .*sha256.*fmnist' "$BROKEN_LOG"
expect_http 200 "" GET /v2/health/live
# A readiness answer says so as the protocol does ({"ready": false}) or as an error.
expect_not_ready() {
  oip GET "$1"
  [ "$STATUS" = 503 ] || fail "GET $1: status $STATUS, expected 503; body: $BODY"
  json_field "$BODY" "d.get('ready') is False or isinstance(d.get('error'), str)" | grep -qx True \
    || fail "GET $1: 503 with $BODY"
}
expect_not_ready /v2/health/ready
expect_not_ready /v2/models/fmnist/ready
expect_http 503 "fmnist" POST $infer "$good"
kill -0 "$BROKEN_PID" 2> /dev/null || fail "the server exited over one bad deployment"
ok "a deployed model.pt that fails the sha256 check: logged, health/ready and the model 503, the server stays up"

run_mlc 0 deploy fmnist:1 --target broken
wait_until 5 "ready once deploy placed the right files again" status_is 200 GET /v2/health/ready
expect_http 200 "" POST $infer "$good"
stop_server "$BROKEN_PID"
ok "a deploy that repairs the files is picked up: ready, and infer 200"

# SIGTERM drain: one request is half sent, one may wait in the batch queue.
start_server drain prod --max-batch-size 64 --max-queue-delay-us 1000000
DRAIN_PID=$SERVER_PID DRAIN_LOG=$SERVER_LOG
wait_until 10 "ready" status_is 200 GET /v2/health/ready
checks drain "$PORT" fmnist "$DRAIN_PID" || fail "drain"
wait_exit "$DRAIN_PID" 15
[ "$STOP_STATUS" = 0 ] || fail "after SIGTERM with requests in flight: exit $STOP_STATUS"
grep -q '^mlc serve: stopping ([1-9][0-9]* requests\? in flight)$' "$DRAIN_LOG" \
  || fail "the stopping line should count the requests in flight: $(grep stopping "$DRAIN_LOG")"
ok "SIGTERM: requests in flight finish with 200, no new connection is served, exit 0"

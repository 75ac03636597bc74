#!/usr/bin/env bash
# `make serve`: runs what production holds as a service and calls it the way a client would:
# health, model metadata, one infer request per test image, the metrics; then a rollback from
# another process, which the running server follows without a failed request; then SIGTERM.
set -euo pipefail
MLC=${MLC:-../../build/bin/mlc}
DATA=/usr/share/datasets/fashion-mnist
LOG=$(mktemp)
"$MLC" serve --target production --port 0 2> "$LOG" &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 100); do grep -q listening "$LOG" && break; sleep 0.1; done
PORT=$(sed -n 's|.*listening on http://[^:]*:\([0-9]*\).*|\1|p' "$LOG")
URL=http://127.0.0.1:$PORT
cat "$LOG"

echo "--- GET $URL/v2/health/ready"; curl -sS "$URL/v2/health/ready"; echo
echo "--- GET $URL/v2/models/fmnist"; curl -sS "$URL/v2/models/fmnist"; echo

# The first three test images as Open Inference Protocol requests (pixels 0-255, as trained).
for i in 0 1 2; do
  /usr/bin/python3 - "$DATA/t10k-images-idx3-ubyte.gz" "$i" > request.json <<'PY'
import gzip, json, sys
with gzip.open(sys.argv[1]) as f:
    f.read(16 + int(sys.argv[2]) * 784)
    pixels = list(f.read(784))
print(json.dumps({"id": "image-" + sys.argv[2],
                  "inputs": [{"name": "input", "shape": [1, 28, 28], "datatype": "FP32", "data": pixels}],
                  "outputs": [{"name": "class_name"}, {"name": "probabilities"}]}))
PY
  echo "--- POST $URL/v2/models/fmnist/infer (test image $i)"
  curl -sS -H 'Content-Type: application/json' --data @request.json "$URL/v2/models/fmnist/infer"; echo
done

echo "--- mlc rollback fmnist --target production, while the server runs"
current=$("$MLC" --json show fmnist@production | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
if "$MLC" rollback fmnist --target production --reason "make serve: the server follows"; then
  target=$("$MLC" --json show fmnist@production | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
  for _ in $(seq 20); do
    version=$(curl -sS --data @request.json "$URL/v2/models/fmnist/infer" | sed -n 's/.*"model_version":"\([0-9]*\)".*/\1/p')
    [ "$version" = "$target" ] && break
    sleep 0.1
  done
  echo "now serving fmnist version $version"
  "$MLC" deploy "fmnist:$current" --target production --reason "make serve: back to $current"
else
  echo "(no earlier version left to roll back to: the swap is shown by tests/cli/test_serve_swap.sh)"
fi
rm -f request.json

echo "--- GET $URL/metrics (part)"
curl -sS "$URL/metrics" | grep -E '^mlc_(inference_requests_total|model_swaps_total)'
kill -TERM $SERVER
wait $SERVER
trap - EXIT
tail -n 3 "$LOG"
rm -f "$LOG"

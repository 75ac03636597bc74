#!/usr/bin/env bash
# mlc export --variant onnx (issue 9 item 5): every architecture, trained on a small slice, as an
# ONNX graph with its preprocessing inside, run by a real runtime: ONNX Runtime (onnxruntime-node
# from the npm registry, test-only: mlc never needs node) gives mlc's outputs within 1e-4 on 100
# test inputs, and Python's onnx.checker.check_model(full_check=True) finds nothing. Also: the
# variant's record (format onnx, size only, no metrics or latency), the file name, and --max-drop
# refused (mlc cannot run the file to measure a drop).
source "$(dirname "$0")/lib.sh"
EXAMPLES="$MLC_SOURCE_DIR/examples/fashion-mnist"

# ONNX Runtime, installed once into the build tree. ONNXRUNTIME_NODE_INSTALL=skip: its install
# script would otherwise download CUDA binaries from outside the registry; the CPU ones ship in
# the package.
ORT_VERSION=1.30.0
ORT_DIR="${MLC_BUILD_DIR:?}/onnxruntime-node-$ORT_VERSION"
if [ ! -f "$ORT_DIR/node_modules/onnxruntime-node/package.json" ]; then
  command -v npm > /dev/null || fail "npm is missing (scripts/install-deps.sh installs nodejs and npm)"
  rm -rf "$ORT_DIR.tmp.$$"
  ONNXRUNTIME_NODE_INSTALL=skip timeout 600 npm install --prefix "$ORT_DIR.tmp.$$" --no-audit \
    --no-fund --loglevel=error "onnxruntime-node@$ORT_VERSION" > /dev/null \
    || fail "npm install onnxruntime-node@$ORT_VERSION"
  # The package ships every platform's binaries (245 of its 291 MB); this machine needs one.
  for platform in "$ORT_DIR.tmp.$$"/node_modules/onnxruntime-node/bin/napi-v*/*/*; do
    if [ "$platform" = "${platform%/linux/x64}" ]; then rm -rf "$platform"; fi
  done
  rm -rf "$ORT_DIR" && mv "$ORT_DIR.tmp.$$" "$ORT_DIR"
fi
export NODE_PATH="$ORT_DIR/node_modules"

slice=(--epochs 1 --set data.train_limit=300 --set data.test_limit=100 --set training.threads=1
       --set "data.train_images=$MLC_FASHION_MNIST_DIR/train-images-idx3-ubyte.gz"
       --set "data.train_labels=$MLC_FASHION_MNIST_DIR/train-labels-idx1-ubyte.gz"
       --set "data.test_images=$MLC_FASHION_MNIST_DIR/t10k-images-idx3-ubyte.gz"
       --set "data.test_labels=$MLC_FASHION_MNIST_DIR/t10k-labels-idx1-ubyte.gz")

# The first 100 test images as raw float32 pixels 0..255, read independently of mlc's reader.
"$PYTHON" - "$MLC_FASHION_MNIST_DIR/t10k-images-idx3-ubyte.gz" "$WORK/images.f32" <<'PY'
import gzip, struct, sys
import numpy
with gzip.open(sys.argv[1], "rb") as f:
    zero, code, rank = struct.unpack(">HBB", f.read(4))
    dims = struct.unpack(f">{rank}I", f.read(4 * rank))
    data = f.read(100 * dims[1] * dims[2])
numpy.frombuffer(data, dtype=numpy.uint8).astype("<f4").tofile(sys.argv[2])
PY

# check_onnx FILE EXPECTED.f32|PREDICTIONS.json INPUTS.f32 DIMS: ONNX Runtime's outputs against
# mlc's within 1e-4, and onnx.checker.check_model(full_check=True).
check_onnx() {
  node "$MLC_SOURCE_DIR/tests/cli/onnx_run.js" "$1" "$3" "$4" "$WORK/onnx-out.f32" > /dev/null \
    || fail "$1: ONNX Runtime could not run it"
  "$PYTHON" - "$1" "$2" "$WORK/onnx-out.f32" <<'PY' || fail "$1: ONNX Runtime disagrees with mlc, or the checker refuses it"
import json, sys
import numpy, onnx
model_path, expected_path, actual_path = sys.argv[1:]
onnx.checker.check_model(onnx.load(model_path), full_check=True)
if expected_path.endswith(".json"):
    expected = numpy.array([p["logits"] for p in json.load(open(expected_path))["predictions"]], dtype=numpy.float32)
else:
    expected = numpy.fromfile(expected_path, dtype="<f4")
actual = numpy.fromfile(actual_path, dtype="<f4").reshape(expected.shape[0], -1)
expected = expected.reshape(actual.shape)
assert actual.shape[0] == 100, actual.shape
difference = float(numpy.abs(actual - expected).max())
assert difference <= 1e-4, f"max difference {difference}"
print(difference)
PY
}

# Each architecture, with options that change its graph: batch norm, every CNN layer type, two
# bidirectional LSTM layers, a bidirectional GRU's mean over time, the transformer's patches, class
# token, pre-norm and gelu.
"$PYTHON" - "$EXAMPLES/cnn.json" "$WORK/cnn.json" <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))
config["model"]["layers"] = [
    {"type": "conv2d", "out_channels": 6, "kernel_size": 3, "padding": 1},
    {"type": "batch_norm"}, {"type": "relu"}, {"type": "max_pool2d", "kernel_size": 2},
    {"type": "conv2d", "out_channels": 8, "kernel_size": 3, "stride": 2, "bias": False},
    {"type": "gelu"}, {"type": "avg_pool2d", "kernel_size": 3, "stride": 1, "padding": 1},
    {"type": "dropout", "p": 0.25}, {"type": "flatten"}, {"type": "linear", "out_features": 32},
    {"type": "batch_norm"}, {"type": "tanh"}]
json.dump(config, open(sys.argv[2], "w"))
PY
configs=(
  "mlp $EXAMPLES/mlp.json --set model.batch_norm=true"
  "cnn $WORK/cnn.json"
  "lstm $EXAMPLES/lstm.json --set model.hidden_size=16 --set model.num_layers=2 --set model.bidirectional=true"
  "gru $EXAMPLES/gru.json --set model.hidden_size=16 --set model.bidirectional=true --set model.pooling=mean"
  "transformer $EXAMPLES/transformer.json --set model.d_model=16 --set model.dim_feedforward=32 --set model.activation=gelu"
)
for entry in "${configs[@]}"; do
  read -r name config options <<< "$entry"
  # shellcheck disable=SC2086 # options are words
  mlc -q train "$config" --name "$name" "${slice[@]}" $options > /dev/null
  mlc -q eval "$name" > /dev/null
  run_mlc 0 --json export "$name" --variant onnx --out "$WORK/dist/"
  printf '%s' "$OUT" > "$WORK/$name.export.json"
  validate export
  json_field "$OUT" "d['model_file'] == '$WORK/dist/$name-v1-onnx.onnx', d['variant']['kind'], d['variant']['format'], d['variant']['details']['opset'], d['variant']['details']['preprocessing'], d['variant']['variant']['metrics'], d['variant']['variant']['latency_batch1_ms'], d['variant']['variant']['size_bytes'] == $(stat -c %s "$WORK/dist/$name-v1-onnx.onnx")" \
    | grep -qx "True onnx onnx 17 inside {} None True" || fail "$name: export --variant onnx: $OUT"
  run_mlc 0 --json predict "$name" --limit 100
  printf '%s' "$OUT" > "$WORK/$name.predictions.json"
  difference=$(check_onnx "$WORK/dist/$name-v1-onnx.onnx" "$WORK/$name.predictions.json" "$WORK/images.f32" 28,28)
  ok "$name: ONNX Runtime gives mlc predict's logits on 100 test images (max difference $difference); full_check clean"
done

# A regression over a table: missing cells filled, numeric columns scaled, the categorical column
# one-hot encoded, the output mapped back to the target's units; a transformer over its columns as
# tokens (post-norm, mean pooling); against the fp32 TorchScript export in Python's torch.
"$PYTHON" - "$(alcohol_config 5)" <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))
config["data"]["categorical"] = ["class"]
config["model"] = {"architecture": "transformer", "d_model": 8, "nhead": 2, "num_layers": 1,
                   "dim_feedforward": 16}
json.dump(config, open(sys.argv[1], "w"))
PY
mlc -q train "$WORK/alcohol.json" --name alcohol > /dev/null
mlc -q eval alcohol > /dev/null
mlc -q export alcohol --out "$WORK/dist/alcohol.pt" > /dev/null
run_mlc 0 --json export alcohol --variant onnx --variant-name runtime --out "$WORK/dist/"
json_field "$OUT" "d['model_file'] == '$WORK/dist/alcohol-v1-runtime.onnx', d['manifest']['outputs'][0]['name'],
                  d['manifest']['platform'], d['manifest']['model_file']['format']" \
  | grep -qx "True prediction onnxruntime_onnx onnx" || fail "alcohol: export --variant onnx: $OUT"
expect_error 2 "--out $WORK/dist/alcohol-onnx.pt: an onnx variant's file name must end in .onnx" \
  export alcohol --variant onnx --variant-name other --out "$WORK/dist/alcohol-onnx.pt"
"$PYTHON" - "$MLC_TEST_DATA_DIR/wine.csv" "$WORK/dist/alcohol.pt" "$WORK/table.f32" "$WORK/table-expected.f32" <<'PY'
import csv, sys
import numpy, torch
rows = list(csv.DictReader(open(sys.argv[1])))[:100]
features = [c for c in rows[0] if c != "alcohol"]
# A categorical cell goes in as the index of its value among the sorted categories: wine's class is
# "0", "1" or "2", so its value is its index.
x = numpy.array([[float(r[c]) for c in features] for r in rows], dtype=numpy.float32)
x[::7, 2] = numpy.nan   # missing cells: the model fills them as it was trained to
x[::11, 5] = numpy.nan
x[::13, features.index("class")] = numpy.nan  # a missing category: no one-hot column set
x.astype("<f4").tofile(sys.argv[3])
with torch.no_grad():
    y = torch.jit.load(sys.argv[2])(torch.from_numpy(x)).numpy()
assert numpy.isfinite(y).all()
y.astype("<f4").tofile(sys.argv[4])
print(len(features), file=open(sys.argv[3] + ".width", "w"))
PY
difference=$(check_onnx "$WORK/dist/alcohol-v1-runtime.onnx" "$WORK/table-expected.f32" "$WORK/table.f32" "$(cat "$WORK/table.f32.width")")
ok "a transformer's table regression with missing cells and a categorical column: ONNX Runtime gives the fp32 export's predictions (max difference $difference)"

# What the catalogue says of it, and what is refused.
run_mlc 0 --json show mlp; validate show
json_field "$OUT" "[(v['name'], v['format']) for v in d['variants']]" | grep -qx "\[('onnx', 'onnx')\]" \
  || fail "show lists the onnx variant with its format: $OUT"
run_mlc 0 show mlp
grep -q "onnx" <<< "$OUT" || fail "show (text) does not list the onnx variant: $OUT"
mlc -q export mlp > /dev/null && mlc -q register mlp > /dev/null
before=$(catalogue_fingerprint)
expect_error 6 "mlp:1 variant onnx is not TorchScript (onnx), which mlc serve cannot run; deploy a TorchScript variant (mlc export mlp:1 --variant-name onnx --out DIR/ copies the file out" deploy mlp --target prod --variant onnx
expect_error 2 "--max-drop with --variant onnx" export mlp --variant onnx --variant-name again --max-drop accuracy=0.01
[ "$(catalogue_fingerprint)" = "$before" ] || fail "a refused export --variant onnx changed the catalogue"
run_mlc 0 export mlp --variant-name onnx --out "$WORK/copy/"
cmp -s "$WORK/copy/mlp-v1-onnx.onnx" "$WORK/dist/mlp-v1-onnx.onnx" || fail "the copied-out onnx file differs: $OUT"
[ "$(catalogue_fingerprint)" = "$before" ] || fail "copying the onnx variant out changed the catalogue"
ok "show lists the variant as format onnx; deploy of it: exit 6; --max-drop with onnx: exit 2; nothing stored; --variant-name onnx copies it out again"
